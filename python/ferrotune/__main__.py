import sys

from ferrotune.cli import main

sys.exit(main())
