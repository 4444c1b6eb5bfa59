"""Provenance of a results document: signed by the course's own grading, or not.

A results file is plain JSON; a student who controls the workflow that writes it can write
any score. So the course's own grading (``regrade``, ``merge`` of verified inputs, ``sign``
in the instructor's workflow) signs what it writes with a *course key* no student holds, and
``collect`` counts only documents whose signature it can verify (the others are marked
unverified: a gradebook column, a banner, left out of ``total`` unless the TA asks).

The signature is HMAC-SHA256 over the canonical document (:func:`canonical_bytes`: sorted
keys, no whitespace, ASCII) with ``extra_data.provenance`` in it, less its ``signature``.
That record names the student and the sha256 of the submission graded
(:func:`submission_sha256`), so a signed file copied to another student, or kept from an
earlier submission, does not verify there.

The key comes from ``$AUTOGRADER_COURSE_KEY`` (the key itself, e.g. a CI secret) or
``$AUTOGRADER_COURSE_KEY_FILE`` (a file outside every student's reach, e.g. ``~/.config``
with mode 600), at least 16 bytes. A process that runs submission code must never hold it:
``regrade`` reads it and removes both variables from its environment before it starts a
grading, and signs after the grading has ended. Standard library only.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import hmac
import json
import os
import stat
import sys
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autograder.spec import paths
from reference.cli_support import UsageError

__all__ = [
    "KEY_FILE_VARIABLE",
    "KEY_VARIABLE",
    "SCHEME",
    "CourseKeyError",
    "Verification",
    "canonical_bytes",
    "common_origin",
    "load_course_key",
    "sign",
    "submission_sha256",
    "verify",
]

SCHEME = "hmac-sha256/1"
KEY_VARIABLE = "AUTOGRADER_COURSE_KEY"
KEY_FILE_VARIABLE = "AUTOGRADER_COURSE_KEY_FILE"
MIN_KEY_BYTES = 16
MAX_MODULE_BYTES = 1 << 20


class CourseKeyError(ValueError):
    """A course key is configured but unusable (unreadable file, too short)."""


@dataclass(frozen=True)
class Verification:
    """Whether one document is the course's own: ``reason`` says why not (empty when it is)."""

    verified: bool
    reason: str = ""

    @property
    def label(self) -> str:
        return "verified" if self.verified else "unverified"


def load_course_key(
    environ: MutableMapping[str, str] | None = None, *, forget: bool = False
) -> bytes | None:
    """The course key, or None when none is configured; CourseKeyError when it is unusable.

    ``forget`` removes both variables from ``environ`` (default ``os.environ``) once read, so
    no process started afterwards (a grading, a worker) inherits the key.
    """
    environ = os.environ if environ is None else environ
    value, file = environ.get(KEY_VARIABLE, ""), environ.get(KEY_FILE_VARIABLE, "")
    if forget:
        environ.pop(KEY_VARIABLE, None)
        environ.pop(KEY_FILE_VARIABLE, None)
    if value:
        key = value.strip().encode("utf-8")
    elif file:
        try:
            key = Path(file).expanduser().read_bytes().strip()
        except OSError as error:
            raise CourseKeyError(f"${KEY_FILE_VARIABLE}: cannot read {file}: {error}") from None
    else:
        return None
    if len(key) < MIN_KEY_BYTES:
        raise CourseKeyError(f"the course key is shorter than {MIN_KEY_BYTES} bytes")
    return key


def canonical_bytes(document: Mapping[str, Any]) -> bytes:
    """The bytes the signature covers: the document without its signature, canonical JSON."""
    unsigned = copy.deepcopy(dict(document))
    extra = unsigned.get("extra_data")
    if isinstance(extra, dict) and isinstance(extra.get("provenance"), dict):
        extra["provenance"].pop("signature", None)
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def submission_sha256(folder: Path | None, names: Iterable[str] | None = None) -> str:
    """sha256 of the exercise modules in ``folder`` (a copy the grader made): each regular
    file's name and content hash, absent or linked ones as "missing". A ``folder`` that is
    absent, not a folder, or a link (to another student's copies, say) holds nothing: a
    document signed for real copies does not verify without them."""
    if folder is not None:
        try:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                folder = None
        except OSError:
            folder = None
    if names is None:
        from autograder.spec.registry import EXERCISES

        names = [f"{module}.py" for module in EXERCISES.values()]
    digest = hashlib.sha256(b"why-transformers-submission/1\n")
    for name in sorted(names):
        value = "missing"
        if folder is not None:
            path = Path(folder) / name
            try:
                if stat.S_ISREG(os.lstat(path).st_mode):
                    value = hashlib.sha256(path.read_bytes()[: MAX_MODULE_BYTES + 1]).hexdigest()
            except OSError:
                pass
        digest.update(f"{name}\0{value}\n".encode())
    return digest.hexdigest()


def _signature(key: bytes, document: Mapping[str, Any]) -> str:
    return hmac.new(key, canonical_bytes(document), hashlib.sha256).hexdigest()


def sign(
    document: Mapping[str, Any], *, key: bytes, student: str, submission: str, by: str
) -> dict[str, Any]:
    """A copy of ``document`` carrying ``extra_data.provenance`` (``by``: what signed it)."""
    signed = copy.deepcopy(dict(document))
    extra = signed.get("extra_data")
    if not isinstance(extra, dict):
        extra = signed["extra_data"] = {}
    extra["provenance"] = {
        "scheme": SCHEME,
        "student": student,
        "submission_sha256": submission,
        "signed_by": by,
        "signed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    extra["provenance"]["signature"] = _signature(key, signed)
    return signed


def verify(
    document: Mapping[str, Any],
    *,
    key: bytes | None,
    student: str,
    submission: str | None = None,
) -> Verification:
    """Whether ``document`` was signed with ``key`` for ``student`` (and, when the submission
    graded is at hand, for its ``submission`` hash)."""
    extra = document.get("extra_data")
    record = extra.get("provenance") if isinstance(extra, Mapping) else None
    if not isinstance(record, Mapping) or not isinstance(record.get("signature"), str):
        return Verification(False, "not signed by the course's grading")
    if key is None:
        return Verification(False, "no course key configured here: cannot be checked")
    if record.get("scheme") != SCHEME:
        return Verification(False, f"unknown signature scheme {str(record.get('scheme'))[:40]!r}")
    # bytes, not str: compare_digest raises TypeError on a non-ASCII str, and one forged
    # file must not stop a whole collect, merge or regrade
    claimed = record["signature"].encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(_signature(key, document).encode(), claimed):
        return Verification(False, "the signature does not match (edited, or another key)")
    if record.get("student") != student:
        return Verification(
            False, f"signed for another student ({str(record.get('student'))[:60]!r})"
        )
    if submission is not None and record.get("submission_sha256") != submission:
        return Verification(False, "signed for another submission than the one beside it")
    return Verification(True)


def common_origin(documents: Iterable[Mapping[str, Any]], *, key: bytes) -> tuple[str, str] | None:
    """(student, submission hash) when every document verifies with ``key`` for the same
    student and submission, else None: what ``merge`` needs to sign its result."""
    origins = set()
    for document in documents:
        record = (document.get("extra_data") or {}).get("provenance")
        if not isinstance(record, Mapping):
            return None
        student, submission = str(record.get("student")), str(record.get("submission_sha256"))
        if not verify(document, key=key, student=student, submission=submission).verified:
            return None
        origins.add((student, submission))
    return origins.pop() if len(origins) == 1 else None


# ---- python -m autograder sign ----


def run(args: argparse.Namespace) -> int:
    """0 when every file was signed, 1 when one could not be read, 2 without a course key."""
    from autograder.results.schema import ResultsFileError, load_results_as_written
    from autograder.results.write import write_json

    try:
        key = load_course_key()
    except CourseKeyError as error:
        raise UsageError(str(error)) from None
    if key is None:
        raise UsageError(f"no course key: set ${KEY_VARIABLE} or ${KEY_FILE_VARIABLE}")
    status = 0
    for path in args.results:
        try:
            document = load_results_as_written(path=path)
        except ResultsFileError as error:
            print(f"sign: {path}: {error}", file=sys.stderr)
            status = 1
            continue
        folder = path.resolve().parent
        beside = folder / paths.SUBMISSION_FOLDER
        submission = submission_sha256(beside)
        signed = sign(document, key=key, student=folder.name, submission=submission, by="sign")
        write_json(signed, path)
        print(f"signed for {folder.name}: {path}")
    return status
