"""MLflow models-from-code entry: executed (not unpickled) when the logged model loads."""

from mlflow.models import set_model

from ivif.registry.pyfunc import FusionPyfunc

set_model(FusionPyfunc())
