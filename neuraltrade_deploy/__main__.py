from neuraltrade_deploy.cli import main

main()
