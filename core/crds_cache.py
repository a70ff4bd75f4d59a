"""Write a local CRDS cache (mappings, references, config) that the ``crds`` client can
select from with no server.

Simulators use this to publish their reference files exactly as a real cache holds them,
so that spec2 and jwst both find them through ``crds.getreferences``. The layout is the
client's ``instrument`` cache mode::

    <root>/config/jwst/server_config
    <root>/config/jwst/ref_cache_subdir_mode          (the word "instrument")
    <root>/mappings/jwst/jwst_0001.pmap
    <root>/mappings/jwst/jwst_<instr>_0001.imap
    <root>/mappings/jwst/jwst_<instr>_<reftype>_0001.rmap
    <root>/references/jwst/<instr>/<file>

Each mapping carries a ``sha1sum`` header equal to the SHA-1 of its text without the
lines that mention ``sha1sum``, which the client verifies.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from spec2 import jwst_steps
from spec2.crds_pars import pars_reftypes

OBSERVATORY = "jwst"
CONTEXT = "jwst_0001.pmap"
# A server URL containing "serverless" keeps the client from ever calling out.
SERVER_URL = "https://jwst-serverless-mode.stsci.edu"

# Every reference type a jwst 3.0.0 Spec2Pipeline step may request, and the parameter
# references (pars-<step class>) of the pipeline and each step. The client fails a
# whole multi-type lookup when one type is absent from the .imap, so an instrument's
# .imap lists all of them, as N/A where the instrument has no file.
JWST_REFTYPES = (
    "apcorr", "area", "barshadow", "bkg", "camera", "chromcorr", "collimator", "cubepar",
    "dflat", "disperser", "distortion", "extract1d", "fflat", "filteroffset", "flat",
    "fore", "fpa", "fringe", "fringefreq", "ifufore", "ifupost", "ifuslicer", "mrsptcorr",
    "mrsxartcorr", "msa", "msaoper", "ote", "pastasoss", "pathloss", "photom", "psf",
    "regions", "sflat", "speckernel", "specprofile", "specwcs", "wavecorr",
    "wavelengthrange", "wfssbkg",
    *pars_reftypes(jwst_steps.STEP_CLASSES),
)


@dataclass
class Rule:
    """One reference file and the header values that select it."""

    match: tuple[str, ...]  # values for the rmap's match keys, in order ("A|B" = either)
    filename: str
    useafter: str = "2022-01-01 00:00:00"


@dataclass
class ReftypeMap:
    parkeys: tuple[str, ...]  # e.g. ("META.INSTRUMENT.DETECTOR", "META.EXPOSURE.TYPE")
    rules: list[Rule] = field(default_factory=list)


def _sha1_without_checksum(text: str) -> str:
    kept = "".join(line for line in text.splitlines(keepends=True) if "sha1sum" not in line)
    return hashlib.sha1(kept.encode()).hexdigest()


def _mapping_text(header: dict, selector: str) -> str:
    header = dict(header, sha1sum="0")
    lines = ["header = {\n"]
    lines += [f"    {key!r} : {value!r},\n" for key, value in header.items()]
    lines += ["}\n", "\n", f"selector = {selector}\n"]
    text = "".join(lines)
    return text.replace("'sha1sum' : '0'", f"'sha1sum' : '{_sha1_without_checksum(text)}'")


def _header(mapping: str, name: str, parkey, **extra) -> dict:
    """A mapping's header: the fields every level shares, then the level's own."""
    return {"derived_from": "spec2 simulator", **extra, "mapping": mapping, "name": name,
            "observatory": OBSERVATORY.upper(), "parkey": parkey}


def _rmap_selector(rmap: ReftypeMap) -> str:
    grouped: dict[tuple, dict[str, str]] = {}
    for rule in rmap.rules:
        grouped.setdefault(tuple(rule.match), {})[rule.useafter] = rule.filename
    entries = []
    for match, by_date in grouped.items():
        key = repr(match if len(match) > 1 else match[0])
        dates = ", ".join(f"{d!r} : {f!r}" for d, f in sorted(by_date.items()))
        entries.append(f"    {key} : UseAfter({{\n        {dates},\n    }}),\n")
    return "Match({\n" + "".join(entries) + "})"


class LocalCache:
    """Accumulates reference files per instrument and writes the mappings on ``finish``.

    Several simulators may add to one cache; ``finish`` rewrites every mapping from what
    was added, so it can be called again after more files arrive.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self._maps: dict[str, dict[str, ReftypeMap]] = {}

    def reference_dir(self, instrument: str) -> Path:
        path = self.root / "references" / OBSERVATORY / instrument.lower()
        path.mkdir(parents=True, exist_ok=True)
        return path

    def publish(self, instrument: str, reftype: str, parkeys, match, filename: str, writer, *args) -> Path:
        """Write a reference with ``writer(path, *args)`` into the instrument's folder
        (unless a file of that name is already there) and register it; return its path."""
        path = self.reference_dir(instrument) / filename
        if not path.exists():
            writer(path, *args)
        self.add(instrument, reftype, parkeys, match, path)
        return path

    def not_applicable(self, instrument: str, reftype: str, parkeys, match):
        """Register that exposures matching ``match`` have no file of ``reftype`` (the
        rmap's "N/A"), where other exposures of the instrument have one."""
        rmap = self._maps.setdefault(instrument.lower(), {}).setdefault(reftype, ReftypeMap(tuple(parkeys)))
        if tuple(parkeys) != rmap.parkeys:
            raise ValueError(f"{reftype}: every rule of one rmap needs the same parkeys")
        rmap.rules.append(Rule(tuple(match), "N/A"))

    def add(self, instrument: str, reftype: str, parkeys, match, path: Path, useafter=None):
        """Register ``path`` (copied into the cache unless already there) as ``reftype``."""
        instrument = instrument.lower()
        dest = self.reference_dir(instrument) / Path(path).name
        if Path(path).resolve() != dest.resolve():
            shutil.copyfile(path, dest)
        rmap = self._maps.setdefault(instrument, {}).setdefault(reftype, ReftypeMap(tuple(parkeys)))
        if tuple(parkeys) != rmap.parkeys:
            raise ValueError(f"{reftype}: every rule of one rmap needs the same parkeys")
        rule = Rule(tuple(match), dest.name)
        if useafter:
            rule.useafter = useafter
        rmap.rules.append(rule)

    def finish(self) -> Path:
        config = self.root / "config" / OBSERVATORY
        mappings = self.root / "mappings" / OBSERVATORY
        config.mkdir(parents=True, exist_ok=True)
        mappings.mkdir(parents=True, exist_ok=True)
        (config / "server_config").write_text(
            repr(
                {
                    "observatory": OBSERVATORY,
                    "operational_context": CONTEXT,
                    "bad_files_list": [],
                    "last_synced": "2026-01-01 00:00:00",
                    "force_remote_mode": False,
                }
            )
            + "\n"
        )
        (config / "ref_cache_subdir_mode").write_text("instrument\n")
        imaps = {}
        for instrument, reftypes in sorted(self._maps.items()):
            selections = {}
            for reftype in JWST_REFTYPES:
                if reftype not in reftypes:
                    selections[reftype] = "N/A"
                    continue
                name = f"{OBSERVATORY}_{instrument}_{reftype.replace('-', '')}_0001.rmap"
                rmap = reftypes[reftype]
                header = _header(
                    "REFERENCE", name, (tuple(rmap.parkeys), ("META.OBSERVATION.DATE", "META.OBSERVATION.TIME")),
                    filekind=reftype.upper(), instrument=instrument.upper(),
                )
                (mappings / name).write_text(_mapping_text(header, _rmap_selector(rmap)))
                selections[reftype] = name
            imap = f"{OBSERVATORY}_{instrument}_0001.imap"
            header = _header("INSTRUMENT", imap, ("REFTYPE",), instrument=instrument.upper())
            # pipeline and instrument mappings select with plain dicts; rmaps with Match
            body = "".join(f"    {k!r} : {v!r},\n" for k, v in selections.items())
            (mappings / imap).write_text(_mapping_text(header, "{\n" + body + "}"))
            imaps[instrument.upper()] = imap
        header = _header("PIPELINE", CONTEXT, ("META.INSTRUMENT.NAME",))
        body = "".join(f"    {k!r} : {v!r},\n" for k, v in imaps.items())
        (mappings / CONTEXT).write_text(_mapping_text(header, "{\n" + body + "}"))
        return self.root


def crds_environment(root: Path) -> dict[str, str]:
    """Environment variables that point the crds client (and jwst) at a local cache."""
    return {
        "CRDS_PATH": str(Path(root).resolve()),
        "CRDS_MODE": "local",
        "CRDS_SERVER_URL": SERVER_URL,
        "CRDS_CONTEXT": CONTEXT,
        "STPIPE_DISABLE_CRDS_STEPPARS": "true",
    }
