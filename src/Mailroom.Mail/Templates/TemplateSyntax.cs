using System.Text.RegularExpressions;

namespace Mailroom.Mail.Templates;

/// <summary>A parse error at a 1-based line and character, as Postmark's validate endpoint reports it.</summary>
public sealed record TemplateError(string Message, int Line, int CharacterPosition);

/// <summary>A template source that did not parse; every error found, in source order.</summary>
public sealed class TemplateSyntaxException(IReadOnlyList<TemplateError> errors)
    : Exception(errors.Count == 0 ? "The template is invalid." : $"{errors[0].Message} (line {errors[0].Line}, character {errors[0].CharacterPosition})")
{
    public IReadOnlyList<TemplateError> Errors { get; } = errors;
}

/// <summary>A model that does not fit the template (an <c>each</c> over a scalar or an object).</summary>
public sealed class TemplateRenderException(string message) : Exception(message);

/// <summary>The nodes of a parsed template.</summary>
public abstract record TemplateNode;

public sealed record TextNode(string Text) : TemplateNode;

/// <summary><c>{{ path }}</c> (escaped in HTML) or <c>{{{ path }}}</c> / <c>{{&amp; path }}</c> (raw).</summary>
public sealed record ValueNode(TemplatePath Path, bool Raw) : TemplateNode;

/// <summary><c>{{#path}}</c>, <c>{{^path}}</c> or <c>{{#each path}}</c> with the nodes up to its close.</summary>
public sealed record SectionNode(TemplatePath Path, SectionKind Kind, IReadOnlyList<TemplateNode> Children) : TemplateNode;

/// <summary>A layout's <c>{{{ @content }}}</c>: where the template using the layout is rendered.</summary>
public sealed record ContentNode : TemplateNode;

public enum SectionKind { Section, Inverted, Each }

/// <summary>
/// A model path as Mustachio reads it: segments split on dots, <c>../</c> steps to the parent context, a path
/// of only <c>.</c> (or <c>this</c>) is the current value.
/// </summary>
public sealed record TemplatePath(string Text, IReadOnlyList<string> Segments)
{
    public const string Up = "..";

    public static TemplatePath From(string text)
    {
        var segments = new List<string>();
        var i = 0;
        while (i < text.Length)
        {
            if (text.AsSpan(i).StartsWith("../") || text.AsSpan(i).StartsWith("..\\"))
            {
                segments.Add(Up);
                i += 3;
                continue;
            }
            if (text[i] == '.')
            {
                i++;
                continue;
            }
            var end = text.IndexOf('.', i);
            if (end < 0)
                end = text.Length;
            segments.Add(text[i..end]);
            i = end;
        }
        return new TemplatePath(text, segments);
    }
}

/// <summary>A parsed template: its nodes, and whether it holds a layout's content placeholder.</summary>
public sealed class ParsedTemplate(IReadOnlyList<TemplateNode> nodes, int contentPlaceholders)
{
    public IReadOnlyList<TemplateNode> Nodes { get; } = nodes;

    /// <summary>How many <c>{{{ @content }}}</c> the source holds (a layout needs exactly one, spec §11).</summary>
    public int ContentPlaceholders { get; } = contentPlaceholders;

    public static readonly ParsedTemplate Empty = new([], 0);
}

/// <summary>
/// Parser of Postmark's template language (Mustachio). Tags are found as Mustachio finds them: <c>{{…}}</c> or
/// <c>{{{…}}}</c> with no brace inside, so <c>{{{{name}}</c> keeps its first two braces as text. Paths allow word
/// characters, dots, underscores and <c>../</c>; a tag must follow <c>{{</c> directly (<c>{{ #x }}</c> is a value with
/// an invalid path, as in Mustachio). Errors are collected, not thrown one by one, so validate can list them all.
/// </summary>
public static partial class TemplateParser
{
    [GeneratedRegex(@"(\{\{[^{}]+?\}\})|(\{\{\{[^{}]+?\}\}\})")]
    private static partial Regex TagFinder();

    // Mustachio's invalid path shapes: three dots, any character other than word, '.', '/', a slash not after '..',
    // or '..' not followed by a slash.
    [GeneratedRegex(@"([.]{3,})|([^\w./_]+)|((?<![.]{2})[/])|([.]{2,}($|[^/]))")]
    private static partial Regex InvalidPath();

    [GeneratedRegex(@"^\{\{\{\s*@content\s*\}\}\}$")]
    private static partial Regex ContentTag();

    /// <summary>Parses <paramref name="source"/>; <paramref name="allowContent"/> accepts a layout's <c>{{{ @content }}}</c>.</summary>
    /// <exception cref="TemplateSyntaxException">The source has one or more errors.</exception>
    public static ParsedTemplate Parse(string? source, bool allowContent = false)
    {
        var result = TryParse(source, allowContent, out var errors);
        return result ?? throw new TemplateSyntaxException(errors);
    }

    /// <summary>Parses, answering null and the errors (in source order) when the source is invalid.</summary>
    public static ParsedTemplate? TryParse(string? source, bool allowContent, out IReadOnlyList<TemplateError> errors)
    {
        source ??= "";
        var found = new List<TemplateError>();
        var lines = new LineIndex(source);
        // Each open scope: its key as written (for matching the close), its kind, path, position and children.
        var stack = new Stack<Frame>();
        var root = new Frame("", SectionKind.Section, null, 0);
        stack.Push(root);
        var contents = 0;
        var idx = 0;

        void Error(int at, string message)
        {
            var (line, ch) = lines.Locate(at);
            found.Add(new TemplateError(message, line, ch));
        }

        TemplatePath Validated(string token, int at)
        {
            token = token.Trim();
            if (token.Length == 0 || InvalidPath().IsMatch(token))
                Error(at, $"The path '{token}' is not valid. Please see documentation for examples of valid paths.");
            return TemplatePath.From(token);
        }

        foreach (Match m in TagFinder().Matches(source))
        {
            if (m.Index > idx)
                stack.Peek().Children.Add(new TextNode(source[idx..m.Index]));
            idx = m.Index + m.Length;
            var tag = m.Value;
            if (Composition.UnsubscribeLinks.Placeholder().IsMatch(tag) && Composition.UnsubscribeLinks.Placeholder().Match(tag).Length == tag.Length)
                // Postmark's unsubscribe placeholder (spec §11) is not a model path: it stays in the output, and
                // Preparation puts each recipient's link there.
                stack.Peek().Children.Add(new TextNode(tag));
            else if (ContentTag().IsMatch(tag))
            {
                if (!allowContent)
                    Error(m.Index, "'{{{ @content }}}' may only be used in a layout.");
                contents++;
                stack.Peek().Children.Add(new ContentNode());
            }
            else if (tag.StartsWith("{{#each", StringComparison.Ordinal))
            {
                var token = tag.TrimStart('{').TrimEnd('}').TrimStart('#')[4..];
                if (token.StartsWith(' ') && token.Trim().Length > 0)
                    stack.Push(new Frame(tag, SectionKind.Each, Validated(token, m.Index), m.Index));
                else
                {
                    Error(m.Index, "The 'each' block being opened requires a model path to be specified in the form '{{#each <name>}}'.");
                    stack.Push(new Frame(tag, SectionKind.Each, TemplatePath.From(""), m.Index));
                }
            }
            else if (tag.StartsWith("{{/each", StringComparison.Ordinal))
            {
                if (tag != "{{/each}}")
                    Error(m.Index, "The syntax to close the 'each' block should be: '{{/each}}'.");
                else if (stack.Count > 1 && stack.Peek().Kind == SectionKind.Each)
                    Close(stack);
                else
                    Error(m.Index, "An 'each' block is being closed, but no corresponding opening element ('{{#each <name>}}') was detected.");
            }
            else if (tag.StartsWith("{{#", StringComparison.Ordinal) || tag.StartsWith("{{^", StringComparison.Ordinal))
            {
                var kind = tag[2] == '#' ? SectionKind.Section : SectionKind.Inverted;
                var token = tag.TrimStart('{').TrimEnd('}')[1..].Trim();
                var path = Validated(token, m.Index);
                // Mustachio's "else": {{#x}}…{{^x}}…{{/x}} closes the first part and opens the other on the same key.
                if (stack.Count > 1 && stack.Peek().Kind != SectionKind.Each && stack.Peek().Key == token)
                    Close(stack);
                stack.Push(new Frame(token, kind, path, m.Index));
            }
            else if (tag.StartsWith("{{/", StringComparison.Ordinal))
            {
                var token = tag.TrimStart('{').TrimEnd('}')[1..].Trim();
                if (stack.Count > 1 && stack.Peek().Kind != SectionKind.Each && stack.Peek().Key == token)
                    Close(stack);
                else
                    Error(m.Index, "It appears that open and closing elements are mismatched.");
            }
            else if (tag.StartsWith("{{!", StringComparison.Ordinal))
            {
                // A comment: dropped.
            }
            else if (tag.StartsWith("{{{", StringComparison.Ordinal) || tag.StartsWith("{{&", StringComparison.Ordinal))
            {
                var token = tag.TrimStart('{').TrimEnd('}').TrimStart('&');
                stack.Peek().Children.Add(new ValueNode(Validated(token, m.Index), Raw: true));
            }
            else
            {
                var token = tag.TrimStart('{').TrimEnd('}');
                stack.Peek().Children.Add(new ValueNode(Validated(token, m.Index), Raw: false));
            }
        }
        if (idx < source.Length)
            stack.Peek().Children.Add(new TextNode(source[idx..]));
        while (stack.Count > 1)
        {
            var open = stack.Pop();
            var (line, ch) = lines.Locate(open.Position);
            found.Add(new TemplateError(
                $"A scope block to the following path was opened but not closed: '{open.Path!.Text}', please close it using the appropriate syntax.",
                line, ch));
        }
        errors = found.OrderBy(e => e.Line).ThenBy(e => e.CharacterPosition).ToList();
        return errors.Count == 0 ? new ParsedTemplate(root.Children, contents) : null;
    }

    private static void Close(Stack<Frame> stack)
    {
        var frame = stack.Pop();
        stack.Peek().Children.Add(new SectionNode(frame.Path!, frame.Kind, frame.Children));
    }

    private sealed class Frame(string key, SectionKind kind, TemplatePath? path, int position)
    {
        public string Key { get; } = key;
        public SectionKind Kind { get; } = kind;
        public TemplatePath? Path { get; } = path;
        public int Position { get; } = position;
        public List<TemplateNode> Children { get; } = [];
    }

    /// <summary>Offsets of the newlines, to turn an index into a 1-based line and character.</summary>
    private sealed class LineIndex(string source)
    {
        private int[]? _newlines;

        public (int Line, int Character) Locate(int index)
        {
            _newlines ??= source.Select((c, i) => (c, i)).Where(p => p.c == '\n').Select(p => p.i).ToArray();
            var line = Array.BinarySearch(_newlines, index);
            line = line < 0 ? ~line : line;
            var start = line == 0 ? 0 : _newlines[line - 1] + 1;
            return (line + 1, index - start + 1);
        }
    }
}
