"""``python -m gui`` starts the drawing pad."""
from gui.launch import main

if __name__ == "__main__":
    raise SystemExit(main())
