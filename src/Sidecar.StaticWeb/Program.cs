using Sidecar.StaticWeb;

SupportedPlatform.EnsureOrExit("Sidecar.StaticWeb", "statx, realpath, readlink, inotify", SupportedPlatform.Linux);
await StaticWebApp.Build(args).RunAsync();
