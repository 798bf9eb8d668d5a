using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

public static class ParameterWithDefaultExtensions
{
    /// <summary>
    /// A parameter that configuration can set (<c>--Parameters:NAME=VALUE</c>, <c>Parameters__NAME</c>, user secrets)
    /// and that falls back to <paramref name="defaultValue"/>, which the manifest also carries as its default.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddParameterWithDefault(this IDistributedApplicationBuilder builder,
        [ResourceName] string name, string defaultValue) =>
        builder.AddParameter(name,
            () => builder.Configuration[$"Parameters:{name}"] is { Length: > 0 } value ? value : defaultValue,
            publishValueAsDefault: true);
}
