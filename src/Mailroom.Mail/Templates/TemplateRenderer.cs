using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Mailroom.Mail.Templates;

/// <summary>How a part is rendered: HTML bodies escape <c>{{ x }}</c>, text bodies and subjects do not (spec §11).</summary>
public enum TemplateOutput { Html, Text }

/// <summary>
/// Renders a <see cref="ParsedTemplate"/> over a System.Text.Json model with Mustachio's semantics:
/// <list type="bullet">
/// <item>A path walks object properties (case-sensitive); through anything else, or a missing key, it finds
/// nothing, and nothing renders as empty. Arrays have no index access.</item>
/// <item>Every step of a path makes a context whose parent is the step before, so <c>../</c> climbs the path
/// (<c>{{#each a.b}}</c>: an item's parent is the array <c>b</c>, its grandparent <c>a</c>); at the root it stays.</item>
/// <item>Falsy: missing, null, false, the number 0, "", an empty array and an empty object.</item>
/// <item><c>{{#x}}</c> renders once with <c>x</c> as context when truthy (an array is not iterated: that is
/// <c>{{#each x}}</c>); <c>{{^x}}</c> renders when falsy; <c>{{#each x}}</c> renders per item and fails on a
/// truthy value that is no array.</item>
/// <item>Strings print as they are, numbers in invariant form, booleans as <c>True</c>/<c>False</c> (.NET's
/// printing, which Mustachio uses); objects and arrays print nothing. HTML escaping is <see cref="WebUtility.HtmlEncode(string)"/>.</item>
/// </list>
/// </summary>
public static class TemplateRenderer
{
    /// <summary>Renders <paramref name="template"/>, inside <paramref name="layout"/> at its <c>{{{ @content }}}</c> when given.</summary>
    /// <exception cref="TemplateRenderException">The model does not fit the template.</exception>
    public static string Render(ParsedTemplate template, JsonElement model, TemplateOutput output, ParsedTemplate? layout = null)
    {
        var sb = new StringBuilder();
        var root = new Scope(model, null);
        var state = new RenderState(sb, output == TemplateOutput.Html, template);
        if (layout is null)
            RenderNodes(template.Nodes, root, state, inLayout: false);
        else
            RenderNodes(layout.Nodes, root, state, inLayout: true);
        return sb.ToString();
    }

    private sealed record RenderState(StringBuilder Out, bool Escape, ParsedTemplate Content);

    private sealed record Scope(JsonElement Value, Scope? Parent);

    private static void RenderNodes(IReadOnlyList<TemplateNode> nodes, Scope scope, RenderState state, bool inLayout)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case TextNode t:
                    state.Out.Append(t.Text);
                    break;
                case ValueNode v:
                    var text = Print(Resolve(scope, v.Path).Value);
                    state.Out.Append(v.Raw || !state.Escape ? text : WebUtility.HtmlEncode(text));
                    break;
                case ContentNode:
                    // The template's nodes take the place of the placeholder, in the layout's context there, as
                    // Mustachio's token expander splices them in. A template's own placeholder renders nothing.
                    if (inLayout)
                        RenderNodes(state.Content.Nodes, scope, state, inLayout: false);
                    break;
                case SectionNode s:
                    var c = Resolve(scope, s.Path);
                    var truthy = IsTruthy(c.Value);
                    switch (s.Kind)
                    {
                        case SectionKind.Section when truthy:
                            RenderNodes(s.Children, c, state, inLayout);
                            break;
                        case SectionKind.Inverted when !truthy:
                            RenderNodes(s.Children, c, state, inLayout);
                            break;
                        case SectionKind.Each when truthy:
                            if (c.Value.ValueKind != JsonValueKind.Array)
                                throw new TemplateRenderException($"'{s.Path.Text}' is used like an array by the template, but is a scalar value or object in your model.");
                            foreach (var item in c.Value.EnumerateArray())
                                RenderNodes(s.Children, new Scope(item, c), state, inLayout);
                            break;
                    }
                    break;
            }
        }
    }

    private static Scope Resolve(Scope scope, TemplatePath path)
    {
        var current = scope;
        foreach (var segment in path.Segments)
        {
            if (segment == TemplatePath.Up)
            {
                current = current.Parent ?? current;
                continue;
            }
            JsonElement value = default;
            if (current.Value.ValueKind == JsonValueKind.Object && current.Value.TryGetProperty(segment, out var found))
                value = found;
            else if (segment == "this")
                continue; // {{this}}: the current value, unless the model has a key named "this" (found above)
            current = new Scope(value, current);
        }
        return current;
    }

    /// <summary>Mustachio's truthiness (JavaScript's falsy values, plus empty collections).</summary>
    public static bool IsTruthy(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.False => false,
        JsonValueKind.String => value.GetString()!.Length > 0,
        JsonValueKind.Number => value.GetDouble() != 0,
        JsonValueKind.Array => value.GetArrayLength() > 0,
        JsonValueKind.Object => value.EnumerateObject().Any(),
        _ => true,
    };

    private static string Print(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.TryGetInt64(out var l)
            ? l.ToString(CultureInfo.InvariantCulture)
            : value.GetDouble().ToString("R", CultureInfo.InvariantCulture),
        JsonValueKind.True => "True",
        JsonValueKind.False => "False",
        _ => "",
    };
}
