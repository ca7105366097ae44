"""The import boundaries of pyproject.toml ([tool.importlinter]) hold: the gateway sees only
the chassis and services' contracts, contracts see nothing of their service, services meet
only through contracts, the chassis has no cycle and knows no service, domains stay pure."""

from importlinter.cli import lint_imports

from tests.support import ROOT


def test_the_import_contracts_are_kept(monkeypatch):
    monkeypatch.chdir(ROOT)  # import-linter reads pyproject.toml from the working directory
    assert lint_imports(no_cache=True, no_logo=True) == 0, "an import boundary is broken: run `lint-imports`"
