"""Ships the repository's `styles/` inside the package, so an installed wheel finds its TCSS."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithStyles(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "imtui" / "styles"
        target.mkdir(parents=True, exist_ok=True)
        for sheet in Path(__file__).parent.joinpath("styles").glob("*.tcss"):
            self.copy_file(str(sheet), str(target / sheet.name))


setup(cmdclass={"build_py": BuildWithStyles})
