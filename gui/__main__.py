"""``python -m gui`` starts the drawing pad."""
from gui.app import main

if __name__ == "__main__":
    raise SystemExit(main())
