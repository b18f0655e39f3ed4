"""``python -m tricrm_tui`` runs the same entry point as the ``tricrm`` script."""

from tricrm_tui.cli.main import run

if __name__ == "__main__":
    run()
