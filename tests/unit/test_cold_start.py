"""Routes that take no money must not pay for `import stripe` on a cold start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_app_does_not_import_stripe() -> None:
    code = "import sys, app; print('stripe' in sys.modules, 'jwt' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_importing_the_app_does_not_import_the_pdf_library() -> None:
    code = "import sys, app; print('fpdf' in sys.modules, 'chalicelib.adapters.receipt_pdf' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
