"""ivif: infrared-visible image fusion beyond strict pairing.

The library is organised by concern (``ivif.data``, ``ivif.pairing``, ``ivif.models``,
``ivif.metrics``, ``ivif.losses``, ``ivif.training``, ``ivif.registry``); entry points
(CLI, Prefect flows, DVC stages) are thin layers over it.
"""

__version__ = "0.1.0"
