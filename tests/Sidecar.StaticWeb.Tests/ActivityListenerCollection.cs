namespace Sidecar.StaticWeb.Tests;

/// <summary>
/// Tests that add an <see cref="System.Diagnostics.ActivityListener"/> run one at a time: a
/// listener's sampling answer applies to every activity in the process, so one test's listener
/// asking for everything would change what another test sees recorded.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ActivityListenerCollection
{
    public const string Name = "activity listeners";
}
