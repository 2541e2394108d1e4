"""`python -m questions [PATH ...]`: validate banks without installing the bot."""

import sys
from pathlib import Path

from questions.report import validate

code, text = validate([Path(p) for p in sys.argv[1:]] or [Path(__file__).parent])
print(text)
sys.exit(code)
