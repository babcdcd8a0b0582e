using System.Text.Json.Nodes;

namespace Mailroom.Mail.Templates;

/// <summary>
/// The <c>SuggestedTemplateModel</c> of <c>POST /templates/validate</c>, inferred as Mustachio infers it: a path
/// used only as a value becomes <c>"name_Value"</c>; a section becomes an object of what it uses; an <c>each</c>
/// becomes an array of one such object, or of three sample strings (<c>name_1</c>…) when its items are printed.
/// </summary>
public static class TemplateModelInference
{
    public static JsonObject Infer(params ParsedTemplate?[] templates)
    {
        var root = new Inferred("", null);
        foreach (var t in templates)
            if (t is not null)
                Walk(t.Nodes, root);
        return (JsonObject)root.ToJson() ?? new JsonObject();
    }

    private static void Walk(IReadOnlyList<TemplateNode> nodes, Inferred scope)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case ValueNode v:
                    scope.Get(v.Path).Usages.Add(Usage.Scalar);
                    break;
                case SectionNode s:
                    var inner = scope.Get(s.Path);
                    inner.Usages.Add(s.Kind == SectionKind.Each ? Usage.Collection : Usage.Conditional);
                    Walk(s.Children, inner);
                    break;
            }
        }
    }

    private enum Usage { Scalar, Conditional, Collection }

    private sealed class Inferred(string key, Inferred? parent)
    {
        public HashSet<Usage> Usages { get; } = [];
        private readonly Dictionary<string, Inferred> _children = new(StringComparer.Ordinal);

        public Inferred Get(TemplatePath path)
        {
            var current = this;
            foreach (var segment in path.Segments)
            {
                if (segment == TemplatePath.Up)
                {
                    current = current.Parent ?? current;
                    continue;
                }
                if (!current._children.TryGetValue(segment, out var child))
                    current._children[segment] = child = new Inferred(segment, current);
                current = child;
            }
            return current;
        }

        private Inferred? Parent { get; } = parent;

        public JsonNode ToJson()
        {
            if (Usages.Count == 1 && Usages.Contains(Usage.Scalar))
                return JsonValue.Create(key + "_Value");
            if (Usages.Contains(Usage.Collection))
            {
                if (_children.Count > 0)
                    return new JsonArray(Children());
                return new JsonArray(JsonValue.Create(key + "_1"), JsonValue.Create(key + "_2"), JsonValue.Create(key + "_3"));
            }
            return Children();
        }

        private JsonObject Children()
        {
            var o = new JsonObject();
            foreach (var (k, v) in _children)
                o[k] = v.ToJson();
            return o;
        }
    }
}
