from kubectl_meshdoctor.cli.main import main

if __name__ == "__main__":
    main()
