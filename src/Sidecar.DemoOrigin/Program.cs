using Sidecar.DemoOrigin;

// The bundled demo origin: a real smart-HTTP git server holding the sample site, so the
// AppHost shows a real sync with no internet. Push to it to see the site change.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();

var repositoriesRoot = Path.GetFullPath(builder.Configuration["DemoOrigin:RepositoriesRoot"]
    ?? Path.Combine(Path.GetTempPath(), "sidecar-demo-origin"));
var seedFolder = builder.Configuration["DemoOrigin:SeedFolder"]
    ?? Path.Combine(AppContext.BaseDirectory, "sample-site");
await DemoRepository.EnsureSeededAsync(Path.Combine(repositoriesRoot, "site.git"), seedFolder);

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapGitHttpBackend(repositoriesRoot);
app.Logger.LogInformation("Serving {Repository} over smart HTTP", Path.Combine(repositoriesRoot, "site.git"));
app.Run();
