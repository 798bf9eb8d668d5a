using System.Diagnostics;
using OpenTelemetry.Trace;
using Sidecar.StaticWeb.Settings;

namespace Sidecar.StaticWeb.Telemetry;

/// <summary>
/// Which spans are recorded. A request whose caller sent a <c>traceparent</c> follows the caller's
/// decision; any other request is recorded with probability <c>StaticWeb:RequestTraceSampleRatio</c>
/// (by trace id, so every span of a trace gets the same answer). Revision switches are always
/// recorded, even inside a request that is not, because they are rare and what an operator looks for.
/// </summary>
/// <remarks>
/// Tracing every hit of a static file costs more CPU than serving it from memory; the request
/// metrics (counts, durations and status codes of every request) are not sampled.
/// </remarks>
public sealed class StaticWebSampler(double requestRatio) : Sampler
{
    private static readonly SamplingResult Record = new(SamplingDecision.RecordAndSample);

    private readonly Sampler requests = new ParentBasedSampler(new TraceIdRatioBasedSampler(requestRatio));

    public double RequestRatio { get; } = requestRatio;

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        samplingParameters.Kind == ActivityKind.Internal && samplingParameters.Name == StaticWebTelemetry.RevisionSwitchSpan
            ? Record
            : requests.ShouldSample(samplingParameters);

    /// <summary>The ratio in effect: the setting, else every request in Development and one in twenty elsewhere.</summary>
    public static double RatioFor(StaticWebOptions options, IHostEnvironment environment) =>
        options.RequestTraceSampleRatio ?? (environment.IsDevelopment() ? 1.0 : DefaultProductionRatio);

    public const double DefaultProductionRatio = 0.05;
}
