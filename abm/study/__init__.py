"""Studies of misreporting: experiment files (TOML), their designs, runs and reports.

* :mod:`.spec`: :class:`StudySpec`, :func:`load_study` (validated, errors naming file, field and value);
* :mod:`.design`: the cases of a study (full factorial or Latin hypercube, x scenarios x seeds);
* :mod:`.runner`: :func:`run_study` (resumable, keyed by content, on Dask or in process);
* :mod:`.report`: ``report.md`` and its figures;
* :mod:`.registry`: the shipped studies by name (``innatura experiment list``).
"""

from innatura.abm.study.design import Case, case_configs
from innatura.abm.study.registry import available, find, load, names
from innatura.abm.study.runner import StudyResult, dump_study, outcome_table, run_study
from innatura.abm.study.spec import StudyError, StudySpec, load_study, loads_study

__all__ = [
    "Case",
    "StudyError",
    "StudyResult",
    "StudySpec",
    "available",
    "case_configs",
    "dump_study",
    "find",
    "load",
    "load_study",
    "loads_study",
    "names",
    "outcome_table",
    "run_study",
]
