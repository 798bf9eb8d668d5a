namespace Sidecar.StaticWeb;

/// <summary>Builds the static web server; Program runs it, tests host it on loopback.</summary>
public static class StaticWebApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        // --root is short for StaticWeb:Root.
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string> { ["--root"] = "StaticWeb:Root" });
        builder.AddServiceDefaults();

        builder.Services.AddOptions<StaticWebOptions>()
            .BindConfiguration(StaticWebOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Root),
                "StaticWeb:Root is not set: give the folder to serve with --root DIR or the environment variable StaticWeb__Root")
            .ValidateOnStart();
        builder.Services.AddSingleton<ContentRoot>();
        builder.Services.AddSingleton<StaticSiteHandler>();
        builder.Services.AddHealthChecks().AddCheck<ContentPublishedHealthCheck>("content");

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.Map("/{**path}", (HttpContext context, StaticSiteHandler site) => site.HandleAsync(context));
        return app;
    }
}
