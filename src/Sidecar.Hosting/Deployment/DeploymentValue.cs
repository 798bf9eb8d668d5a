using System.Text;
using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting.Deployment;

/// <summary>
/// An environment variable's or argument's value as Aspire evaluates it for publish, in parts: literal text
/// (non-secret parameters resolved), secret parameters (written only as references), and endpoint properties
/// (resolved per target: loopback inside a Pod, the service name in Compose).
/// </summary>
public sealed record DeploymentValue(IReadOnlyList<DeploymentValuePart> Parts)
{
    /// <summary>The one secret parameter this value is, or null when it is anything else.</summary>
    public ParameterResource? SingleSecret => Parts is [SecretPart { Parameter: var secret }] ? secret : null;

    public IEnumerable<ParameterResource> Secrets => Parts.OfType<SecretPart>().Select(p => p.Parameter);

    public string Render(Func<SecretPart, string> secret, Func<EndpointPart, string> endpoint, Func<string, string>? literal = null)
    {
        var text = new StringBuilder();
        foreach (var part in Parts)
        {
            text.Append(part switch
            {
                LiteralPart l => literal is null ? l.Text : literal(l.Text),
                SecretPart s => secret(s),
                EndpointPart e => endpoint(e),
                _ => throw new InvalidOperationException($"unknown value part {part}"),
            });
        }
        return text.ToString();
    }

    /// <summary>Reads a value as an environment callback or argument callback left it, for the variable or argument <paramref name="what"/>.</summary>
    public static async Task<DeploymentValue> FromAsync(object? value, string what, CancellationToken cancellationToken)
    {
        var parts = new List<DeploymentValuePart>();
        await AddAsync(value, parts, what, cancellationToken);
        return new DeploymentValue(parts);
    }

    private static async Task AddAsync(object? value, List<DeploymentValuePart> parts, string what, CancellationToken cancellationToken)
    {
        switch (value)
        {
            case null:
                break;
            case string text:
                parts.Add(new LiteralPart(text));
                break;
            case ParameterResource { Secret: true } secret:
                parts.Add(new SecretPart(secret));
                break;
            case ParameterResource parameter:
                parts.Add(new LiteralPart(await ParameterValueAsync(parameter, cancellationToken)));
                break;
            case IResourceBuilder<ParameterResource> parameter:
                await AddAsync(parameter.Resource, parts, what, cancellationToken);
                break;
            case EndpointReference endpoint:
                parts.Add(new EndpointPart(endpoint, EndpointProperty.Url));
                break;
            case EndpointReferenceExpression property:
                parts.Add(new EndpointPart(property.Endpoint, property.Property));
                break;
            case ReferenceExpression { IsConditional: false } expression:
                await AddExpressionAsync(expression, parts, what, cancellationToken);
                break;
            case IFormattable formattable:
                parts.Add(new LiteralPart(formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture)));
                break;
            default:
                throw new InvalidOperationException(
                    $"{what} is a {value.GetType().Name} ('{(value as IManifestExpressionProvider)?.ValueExpression}'), which a deployment cannot carry: give it as text, a parameter or an endpoint of the same Pod");
        }
    }

    // ReferenceExpression.Format is a composite format string: {n} (optionally {n:format}) for ValueProviders[n], braces doubled.
    private static async Task AddExpressionAsync(ReferenceExpression expression, List<DeploymentValuePart> parts, string what, CancellationToken cancellationToken)
    {
        var format = expression.Format;
        var literal = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if ((c == '{' || c == '}') && i + 1 < format.Length && format[i + 1] == c)
            {
                literal.Append(c);
                i++;
                continue;
            }
            if (c != '{')
            {
                literal.Append(c);
                continue;
            }
            var end = format.IndexOf('}', i);
            var index = int.Parse(format.AsSpan(i + 1, end - i - 1).ToString().Split(':')[0], System.Globalization.CultureInfo.InvariantCulture);
            if (literal.Length > 0)
            {
                parts.Add(new LiteralPart(literal.ToString()));
                literal.Clear();
            }
            await AddAsync(expression.ValueProviders[index], parts, what, cancellationToken);
            i = end;
        }
        if (literal.Length > 0)
        {
            parts.Add(new LiteralPart(literal.ToString()));
        }
    }

    public static async Task<string> ParameterValueAsync(ParameterResource parameter, CancellationToken cancellationToken)
    {
        try
        {
            return await parameter.GetValueAsync(cancellationToken) ?? "";
        }
        catch (MissingParameterValueException)
        {
            throw new InvalidOperationException(
                $"the parameter '{parameter.Name}' has no value: give it with --Parameters:{parameter.Name}=VALUE (or the environment variable Parameters__{parameter.Name})");
        }
    }
}

public abstract record DeploymentValuePart;

public sealed record LiteralPart(string Text) : DeploymentValuePart;

/// <summary>A secret parameter: deployments refer to it (a Secret key, a Compose variable) and never write its value by default.</summary>
public sealed record SecretPart(ParameterResource Parameter) : DeploymentValuePart;

public sealed record EndpointPart(EndpointReference Endpoint, EndpointProperty Property) : DeploymentValuePart;
