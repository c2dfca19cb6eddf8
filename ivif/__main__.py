from ivif.cli import main

raise SystemExit(main())
