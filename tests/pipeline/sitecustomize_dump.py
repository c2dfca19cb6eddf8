"""Installed as ``sitecustomize`` in the pipeline tests' stage processes: at exit, an
``ivif`` command writes the files of the ``ivif.*`` modules it loaded, and whether it
imported Prefect, to ``$IVIF_MODULE_DUMP/<pid>.json``."""

import atexit
import json
import os
import sys

_DUMP_DIR = os.environ.get("IVIF_MODULE_DUMP")


def _dump() -> None:
    modules = dict(sys.modules)
    record = {
        "argv": sys.argv,
        "ivif": sorted({m.__file__ for n, m in modules.items() if (n == "ivif" or n.startswith("ivif.")) and getattr(m, "__file__", None)}),
        "prefect": sorted(n for n in modules if n.split(".")[0] == "prefect"),
    }
    with open(os.path.join(_DUMP_DIR, f"{os.getpid()}.json"), "w") as fh:
        json.dump(record, fh)


if _DUMP_DIR and os.path.basename(sys.argv[0] if sys.argv else "") == "ivif":
    atexit.register(_dump)
