using FileAio.Cli;

// fileaio: see docs/cli.md. Exit codes: 0 success, 1 verification failure, 2 bad usage, 3 I/O error.
return await FileAioCli.RunAsync(args);
