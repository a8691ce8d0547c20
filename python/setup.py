"""Builds libTesseraC (the Swift engine's C interface) as part of `pip install ./python` and ships
it, with the Swift runtime libraries it loads, inside the package (tessera/lib), so `import
tessera` needs no environment variable. Offline: it uses the Swift toolchain on this machine
(`swift` on PATH, else /opt/swift/usr/bin) and the repository this folder belongs to."""
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent.parent


def swift_executable():
    found = shutil.which("swift")
    if found:
        return found
    fallback = Path("/opt/swift/usr/bin/swift")
    if fallback.exists():
        return str(fallback)
    raise SystemExit("tessera: no Swift toolchain found (put `swift` on PATH); the package builds the engine from source")


class BuildWithSwift(build_py):
    def run(self):
        swift = swift_executable()
        subprocess.run([swift, "build", "-c", "release", "--product", "TesseraC"], cwd=ROOT, check=True)
        bin_path = subprocess.run([swift, "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                                  capture_output=True, text=True).stdout.strip()
        library = Path(bin_path) / "libTesseraC.so"
        target = Path(self.build_lib) / "tessera" / "lib"
        super().run()
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(library, target / library.name)
        # The Swift runtime libraries libTesseraC loads, found by ldd under the toolchain (its
        # RUNPATH ends in $ORIGIN, so the copies beside it serve on machines without Swift).
        swift_lib = Path(swift).resolve().parent.parent / "lib" / "swift" / "linux"
        out = subprocess.run(["ldd", str(library)], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split("=>")
            if len(parts) == 2 and parts[1].strip().startswith(str(swift_lib)):
                path = Path(parts[1].split("(")[0].strip())
                shutil.copy2(path, target / path.name)


setup(cmdclass={"build_py": BuildWithSwift})
