"""The run report (``spec2_report.json`` next to the products) and ``--resume``.

The report records, per exposure: its status, each step's status, wall time and the
reference files it used, the products written (with their sizes), the error if it
failed, and a fingerprint of what produced it (input files, options). A later run with
``--resume`` reads it and skips an exposure only if the fingerprint is unchanged and every
product it lists is still there, the size it had, and a complete FITS file.

Runs into one output folder share one report: the records of exposures that earlier runs
completed, and that this run did not calculate again, are kept under
``earlier_exposures`` (see :func:`carry_earlier`), so re-running one exposure does not
make the next ``--resume`` of the whole batch forget the others.

Pure functions of plain data, except :func:`write_report`, :func:`read_report` and
:func:`product_is_complete`, which touch files.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger("spec2")

REPORT_NAME = "spec2_report.json"
FORMAT = "spec2-run-report/1"


def _file_identity(path) -> dict:
    st = os.stat(path)
    return {"path": str(Path(path).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def fingerprint(exposure, options) -> str:
    """A digest of everything that decides an exposure's products: its science and member
    files (path, size, modification time) and the run options. A changed input or option
    means the products are recalculated on ``--resume``."""
    inputs = {"science": _file_identity(exposure.science)}
    for kind, paths in sorted(exposure.members.items()):
        inputs[kind] = [_file_identity(p) for p in paths]
    opts = {
        "overrides": {k: str(v) for k, v in sorted(options.overrides.items())},
        "skip": sorted(options.skip),
        "settings": {s: {k: repr(v) for k, v in sorted(p.items())} for s, p in sorted(options.settings.items())},
        "save_intermediate": options.save_intermediate,
    }
    if not options.crds_steppars:  # recorded only when off: earlier fingerprints stay valid
        opts["crds_steppars"] = False
    text = json.dumps({"inputs": inputs, "options": opts}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def exposure_entry(result, fp: str | None) -> dict:
    """The report's record of one exposure."""
    products = []
    for p in result.products:
        try:
            products.append({"path": str(p), "size": os.stat(p).st_size})
        except OSError:
            products.append({"path": str(p), "size": None})
    return {
        "name": result.name,
        "status": result.status,
        "science": result.science,
        "association": result.association,
        "worker": result.worker,
        "wall_seconds": round(result.seconds, 4),
        "error": result.error,
        "warnings": list(result.warnings),
        "crds_context": result.crds_context,
        "steps": [
            {"step": s.name, "status": s.status, "seconds": round(s.seconds, 4), "reference_files": s.references}
            for s in result.steps
        ],
        "products": products,
        # the CRDS parameter references applied (spec2.crds_pars.CrdsPars.record)
        "crds_parameters": result.crds_parameters,
        "fingerprint": fp,
    }


def summary_line(results) -> str:
    """``spec2: 30 of 32 exposure(s) calibrated (2 resumed), 2 failed; 90 product(s) written``."""
    failed = sum(1 for r in results if not r.ok)
    resumed = sum(1 for r in results if r.resumed)
    done = len(results) - failed
    text = f"spec2: {done} of {len(results)} exposure(s) calibrated"
    if resumed:
        text += f" ({resumed} resumed from an earlier run)"
    if failed:
        text += f", {failed} failed"
    written = sum(len(r.products) for r in results if not r.resumed)
    return text + f"; {written} product(s) written"


def software_versions(pm) -> dict:
    """{"spec2": version, "plugins": {name: version}}: what calibrated the products."""
    from spec2 import __version__
    from spec2.plugins import describe_plugins

    plugins = {info.name: info.version for info in describe_plugins(pm)} if pm is not None else {}
    return {"spec2": __version__, "plugins": dict(sorted(plugins.items()))}


def crds_settings(results, environ=os.environ) -> dict:
    """Where the reference files came from: the CRDS context(s) the exposures used (as
    their products record it), and the server, cache and mode the environment set."""
    contexts = sorted({r.crds_context for r in results if r.crds_context})
    return {
        "context": contexts[0] if len(contexts) == 1 else (contexts or None),
        "requested_context": environ.get("CRDS_CONTEXT") or None,
        "server_url": environ.get("CRDS_SERVER_URL") or None,
        "path": environ.get("CRDS_PATH") or None,
        "mode": environ.get("CRDS_MODE") or None,
    }


def build_report(results, fingerprints: dict, started: datetime.datetime, wall: float, engine: str,
                 pm=None) -> dict:
    """The run report of ``results``; ``pm`` (the run's plugin manager) gives the plugin
    versions it records."""
    entries = [exposure_entry(r, fingerprints.get(r.name)) for r in results]
    return {
        "format": FORMAT,
        "started": started.isoformat(timespec="seconds"),
        "wall_seconds": round(wall, 3),
        "engine": engine,
        "software": software_versions(pm),
        "crds": crds_settings(results),
        "exposures": entries,
        "summary": {
            "total": len(results),
            "ok": sum(1 for e in entries if e["status"] == "ok"),
            "resumed": sum(1 for e in entries if e["status"] == "resumed"),
            "failed": sum(1 for e in entries if e["status"] == "failed"),
            "line": summary_line(results),
        },
    }


def carry_earlier(report: dict, previous: dict | None) -> dict:
    """Add to this run's ``report`` the completed records of ``previous`` (the report this
    run replaces) for exposures this run did not include, each stamped with the start of
    the run that made it. Returns ``report``."""
    here = {e["name"] for e in report["exposures"]}
    carried, names = [], set()
    for entry in completed_records(previous):
        if entry["name"] in here or entry["name"] in names:
            continue
        names.add(entry["name"])
        carried.append({**entry, "run_started": entry.get("run_started") or previous.get("started")})
    report["earlier_exposures"] = carried
    return report


def completed_records(report: dict | None) -> list[dict]:
    """The records of completed exposures in a report: this run's, then earlier runs'."""
    report = report or {}
    entries = [*report.get("exposures", []), *report.get("earlier_exposures", [])]
    return [e for e in entries if e.get("status") in ("ok", "resumed")]


def write_report(report: dict, output_dir) -> Path:
    """Write atomically: a reader never sees half a report. The file gets the
    permissions of any new file (0644 under the usual umask), as the products do:
    others in the group may read the run they share."""
    output_dir = Path(output_dir)
    tmp = output_dir / f".spec2_report-{secrets.token_hex(6)}.json"
    # os.open applies the umask to 0o666; tempfile.mkstemp would make it 0600
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "w") as fh:
        json.dump(report, fh, indent=2)
        fh.write("\n")
    final = output_dir / REPORT_NAME
    os.replace(tmp, final)
    return final


def read_report(output_dir) -> dict | None:
    """The previous run's report, or None if there is none (or it is unreadable)."""
    path = Path(output_dir) / REPORT_NAME
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        log.warning("%s: unreadable run report (%s); nothing to resume or keep", path, exc)
        return None
    if report.get("format") != FORMAT:
        log.warning("%s: not a %s report; nothing to resume or keep", path, FORMAT)
        return None
    return report


def product_is_complete(path, size) -> bool:
    """True if ``path`` is the size recorded and a complete FITS file: every header
    parses and the last HDU's data ends exactly at the end of the file."""
    import warnings

    from astropy.io import fits

    try:
        if size is None or os.stat(path).st_size != size:
            return False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a truncation warning is the answer False
            hdul = fits.open(path, memmap=False, lazy_load_hdus=False)
        with hdul:
            info = hdul[-1].fileinfo()  # datSpan: the data's length with its padding
            return info["datLoc"] + info["datSpan"] == size
    except Exception:  # any reading problem means "recalculate", never a crash
        return False


def resumable(entry: dict | None, fp: str) -> bool:
    """Whether an earlier run's record lets this exposure be skipped."""
    if not entry or entry.get("status") not in ("ok", "resumed") or entry.get("fingerprint") != fp:
        return False
    products = entry.get("products") or []
    return bool(products) and all(product_is_complete(p["path"], p.get("size")) for p in products)
