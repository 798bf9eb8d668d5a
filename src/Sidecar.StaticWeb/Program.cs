using Sidecar.StaticWeb;

await StaticWebApp.Build(args).RunAsync();
