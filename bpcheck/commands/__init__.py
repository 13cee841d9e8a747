"""Subcommands of `bpcheck`: each module here defines NAME, HELP, add_arguments(parser) and
run(args) -> exit status, and is found by bpcheck/cli.py without being listed anywhere."""
