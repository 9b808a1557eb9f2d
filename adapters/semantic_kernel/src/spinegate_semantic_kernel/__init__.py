"""Semantic Kernel adapter for spinegate: every kernel function call, direct or model-chosen, goes through a Gate.

    from spinegate import Gate
    from spinegate_semantic_kernel import SpineFilter

    gate = Gate.open("manifest.json", receipts="receipts.jsonl")
    SpineFilter(gate).attach(kernel)
"""

from .arguments import SanitizedArguments, sanitize_arguments
from .filter import DECISION_METADATA_KEY, FRAMEWORK, OutcomeNotRecorded, SpineFilter, unwrap_veto

__all__ = [
    "SpineFilter", "unwrap_veto", "OutcomeNotRecorded", "sanitize_arguments", "SanitizedArguments",
    "DECISION_METADATA_KEY", "FRAMEWORK",
]
__version__ = "0.2.0"
