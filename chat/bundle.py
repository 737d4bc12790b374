"""The visitor page's modules as one pre-built bundle, served only while it matches its sources.

On a slow phone every round trip is 400 ms, and over HTTP/1.1 a browser opens at most six
connections to one host: the first screen's eleven files went in two rounds. esbuild (an npm
package, needed only to build) joins the first screen's modules into an entry file and one
chunk they share with the chat, minified, so the page's scripts and styles all go in one round.

    make bundle    # after changing a visitor or shared module: npm ci, python -m chat.bundle

The build writes frontend/visitor/dist/ with a manifest naming every source file and its
SHA-256. The server uses the bundle only while every source still has that hash; otherwise it
serves the modules themselves, exactly as before, and tests/chat/test_bundle.py fails until the
bundle is rebuilt. So a stale bundle can slow the page down but never run old code.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = ("visitor/main.js", "visitor/you-said.js")
STYLES = ("shared/base.css", "visitor/visitor.css")  # joined, in this order, into one file
DIST = "visitor/dist"
MANIFEST = "manifest.json"
# In frontend/visitor/index.html, the module tags between these two markers are what the
# bundle replaces.
BEGIN = "<!-- modules -->"
END = "<!-- /modules -->"


@dataclass(frozen=True)
class Bundle:
    """The tags that load the bundle, for a page whose sources are unchanged since the build."""

    tags: str


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(frontend: Path) -> Bundle | None:
    """The built bundle, or None when there is none or any source changed after it was built."""
    try:
        manifest = json.loads((frontend / DIST / MANIFEST).read_text(encoding="utf-8"))
        sources: dict[str, str] = manifest["sources"]
        fresh = all(_digest(frontend / name) == digest for name, digest in sources.items())
        if not fresh:
            return None
        lines = [f'<link rel="stylesheet" href="/static/{DIST}/{manifest["styles"]}">']
        lines += [
            f'<link rel="modulepreload" href="/static/{DIST}/{name}">'
            for name in manifest["preload"]
        ]
        lines += [
            f'<script type="module" src="/static/{DIST}/{name}"></script>'
            for name in manifest["entries"]
        ]
        return Bundle("\n  ".join(lines))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def apply(html: str, bundle: Bundle | None) -> str:
    """The page with its module tags replaced by the bundle's (unchanged without a bundle)."""
    if bundle is None or BEGIN not in html or END not in html:
        return html
    head, rest = html.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n  {bundle.tags}\n  {END}{tail}"


def build(frontend: Path = ROOT / "frontend") -> Path:
    """Run esbuild over the entries and write the bundle with its manifest; returns the folder."""
    esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        raise SystemExit("esbuild is missing: run `npm ci` in the checkout first")
    out = frontend / DIST
    with tempfile.TemporaryDirectory() as scratch:
        built = Path(scratch) / "dist"
        meta = Path(scratch) / "meta.json"
        styles = Path(scratch) / "visitor.css"
        styles.write_text(
            "".join(f'@import "{(frontend / name).resolve()}";\n' for name in STYLES),
            encoding="utf-8",
        )
        subprocess.run(  # noqa: S603 - our own esbuild, arguments from this file
            [
                str(esbuild),
                *(str(frontend / entry) for entry in ENTRIES),
                str(styles),
                "--bundle",
                "--splitting",
                "--format=esm",
                "--minify",
                "--legal-comments=none",
                "--log-level=warning",
                f"--outdir={built}",
                "--entry-names=[name]-[hash]",
                "--chunk-names=chunk-[hash]",
                f"--metafile={meta}",
            ],
            check=True,
            cwd=ROOT,
        )
        metafile = json.loads(meta.read_text(encoding="utf-8"))
        outputs, inputs = metafile["outputs"], metafile["inputs"]
        entries: dict[str, str] = {}
        imports: dict[str, list[str]] = {}
        for output_path, output in outputs.items():
            name = Path(output_path).name
            imports[name] = [
                Path(i["path"]).name for i in output["imports"] if i["kind"] == "import-statement"
            ]
            entry = output.get("entryPoint")
            if entry and name.endswith(".css"):
                css = name
            elif entry:
                entries[(ROOT / entry).resolve().relative_to(frontend.resolve()).as_posix()] = name
        ordered = [entries[entry] for entry in ENTRIES]
        preload: list[str] = []
        for name in ordered:  # the entries and what they import at once: one round trip
            for needed in [name, *imports[name]]:
                if needed not in preload:
                    preload.append(needed)
        within = [(ROOT / path).resolve() for path in inputs]
        sources = sorted(
            path.relative_to(frontend.resolve()).as_posix()
            for path in within
            if path.is_relative_to(frontend.resolve())
        )
        manifest = {
            "built_by": "python -m chat.bundle",
            "styles": css,
            "entries": ordered,
            "preload": preload,
            "sources": {name: _digest(frontend / name) for name in sources},
        }
        (built / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(built, out)
    return out


if __name__ == "__main__":
    folder = build()
    print(f"willow: bundle written to {folder.relative_to(ROOT)}", file=sys.stderr)
