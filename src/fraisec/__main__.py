from fraisec.cli import main

main()
