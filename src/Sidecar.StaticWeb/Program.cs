using Sidecar.StaticWeb;

SupportedPlatform.EnsureOrExit("Sidecar.StaticWeb", "statx, realpath, readlink", SupportedPlatform.Linux);
await StaticWebApp.Build(args).RunAsync();
