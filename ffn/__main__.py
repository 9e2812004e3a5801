import sys

from ffn.cli import main

sys.exit(main())
