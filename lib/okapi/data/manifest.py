"""SHA-256 manifest of the committed data files (`data/SHA256SUMS`, the format `sha256sum -c` reads).

Loading the committed cohort checks it, so an edited or truncated data file fails loudly instead of silently
changing every number in the book.
"""

import hashlib
from pathlib import Path
from typing import Iterable


class ManifestError(RuntimeError):
    """A data file is missing, unlisted or differs from its recorded checksum."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path, files: Iterable[str], manifest_name: str = "SHA256SUMS") -> Path:
    folder = Path(folder)
    lines = [f"{sha256_of(folder / name)}  {name}\n" for name in sorted(files)]
    target = folder / manifest_name
    target.write_text("".join(lines), encoding="utf-8", newline="\n")
    return target


def read_manifest(manifest: Path) -> dict[str, str]:
    entries = {}
    for number, line in enumerate(Path(manifest).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            raise ManifestError(f"{manifest}: line {number} is not '<sha256>  <file name>'")
        entries[name] = digest
    return entries


def verify_manifest(folder: Path, manifest_name: str = "SHA256SUMS") -> dict[str, str]:
    """Check every file listed in the manifest; return {file: sha256}. Raises ManifestError naming the file."""
    folder = Path(folder)
    manifest = folder / manifest_name
    if not manifest.exists():
        raise ManifestError(f"{manifest} is missing: regenerate the cohort with `make data`")
    entries = read_manifest(manifest)
    for name, expected in entries.items():
        path = folder / name
        if not path.exists():
            raise ManifestError(f"{path} is listed in {manifest} but does not exist")
        actual = sha256_of(path)
        if actual != expected:
            raise ManifestError(
                f"{path} does not match its checksum in {manifest} (expected {expected[:12]}..., "
                f"found {actual[:12]}...): the file was edited by hand or is corrupt; `make data` regenerates it"
            )
    return entries


def combined_digest(entries: dict[str, str]) -> str:
    """One checksum for a set of files, stable under file order: what the book prints as 'the data checksum'."""
    joined = "".join(f"{entries[name]}  {name}\n" for name in sorted(entries))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()
