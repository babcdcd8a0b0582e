using System.Text.Json;
using Mailroom.Mail.Templates;

namespace Mailroom.Mail.Tests.Templates;

/// <summary>
/// The template language against a table derived from Mustachio's own fixtures (TemplateFixture, ParserFixture)
/// and its README: what Postmark's templates do is what Mustachio does.
/// </summary>
public sealed class TemplateLanguageTests
{
    private static string Html(string template, string model = "{}") =>
        TemplateRenderer.Render(TemplateParser.Parse(template), Model(model), TemplateOutput.Html);

    private static string Text(string template, string model = "{}") =>
        TemplateRenderer.Render(TemplateParser.Parse(template), Model(model), TemplateOutput.Text);

    private static JsonElement Model(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Theory]
    // Values, dotted paths, whitespace inside braces.
    [InlineData("Hello {{name}}!", """{"name":"Ann"}""", "Hello Ann!")]
    [InlineData("Hello {{ name }}!", """{"name":"Ann"}""", "Hello Ann!")]
    [InlineData("{{ a.b.c }}", """{"a":{"b":{"c":"deep"}}}""", "deep")]
    [InlineData("{{company.address_line_1}}", """{"company":{"address_line_1":"1 Main St"}}""", "1 Main St")]
    [InlineData("[{{missing}}][{{a.missing.x}}]", """{"a":{}}""", "[][]")]
    [InlineData("{{Name}}", """{"name":"lower"}""", "")] // keys are case-sensitive
    // Printing: numbers, zero, booleans, objects and arrays.
    [InlineData("You've won {{times_won}} times!", """{"times_won":0}""", "You've won 0 times!")]
    [InlineData("{{n}}/{{d}}", """{"n":42,"d":1.5}""", "42/1.5")]
    [InlineData("{{t}} {{f}}", """{"t":true,"f":false}""", "True False")]
    [InlineData("[{{o}}][{{xs}}][{{nul}}]", """{"o":{"a":1},"xs":[1,2],"nul":null}""", "[][][]")]
    // Dotted paths do not go through arrays (Mustachio has no index access).
    [InlineData("[{{xs.0}}][{{xs.name}}]", """{"xs":[{"name":"a"}]}""", "[][]")]
    // Braces that make no tag stay text.
    [InlineData("{{{{name}}", """{"name":"Mike"}""", "{{Mike")]
    [InlineData("{{{name}}", """{"name":"Mike"}""", "{Mike")]
    [InlineData("{{name}}}", """{"name":"Mike"}""", "Mike}")]
    [InlineData("{{name}}}}", """{"name":"Mike"}""", "Mike}}")]
    // Comments.
    [InlineData("a{{! not shown }}b", "{}", "ab")]
    // Sections scope into an object and render when truthy.
    [InlineData("{{#person}}{{name}} ({{age}}){{/person}}", """{"person":{"name":"Bo","age":3}}""", "Bo (3)")]
    [InlineData("{{#flag}}yes{{/flag}}", """{"flag":true}""", "yes")]
    [InlineData("{{#flag}}yes{{/flag}}", """{"flag":"x"}""", "yes")]
    [InlineData("{{# person }}{{ name }}{{/ person }}", """{"person":{"name":"Bo"}}""", "Bo")]
    // A section over an array renders once with the array as context: no iteration (that is each).
    [InlineData("{{#xs}}[{{name}}{{.}}]{{/xs}}", """{"xs":[{"name":"a"},{"name":"b"}]}""", "[]")]
    // Inverted sections and Mustachio's else form.
    [InlineData("{{^items}}none{{/items}}", """{"items":[]}""", "none")]
    [InlineData("{{^items}}none{{/items}}", """{"items":[1]}""", "")]
    [InlineData("{{#c}}has{{^c}}hasn't{{/c}}", """{"c":[1]}""", "has")]
    [InlineData("{{#c}}has{{^c}}hasn't{{/c}}", """{"c":[]}""", "hasn't")]
    [InlineData("{{^not_here}}{{../placeholder}}{{/not_here}}", """{"placeholder":"a placeholder value"}""", "a placeholder value")]
    // each: {{.}} and {{this}} are the item; nested each; ../ climbs the path.
    [InlineData("{{#each xs}}<{{.}}>{{/each}}", """{"xs":["a","b","c"]}""", "<a><b><c>")]
    [InlineData("{{#each xs}}<{{this}}>{{/each}}", """{"xs":[1,2]}""", "<1><2>")]
    [InlineData("{{#each rows}}[{{#each cells}}{{v}}{{/each}}]{{/each}}", """{"rows":[{"cells":[{"v":1},{"v":2}]},{"cells":[{"v":3}]}]}""", "[12][3]")]
    [InlineData("{{#each Company.ceo.products}}<li>{{ name }} by {{../../last_name}}</li>{{/each}}",
        """{"Company":{"ceo":{"last_name":"Smith","products":[{"name":"p0"},{"name":"p1"}]}}}""", "<li>p0 by Smith</li><li>p1 by Smith</li>")]
    [InlineData("{{#each xs}}[{{../title}}]{{/each}}", """{"title":"T","xs":[1]}""", "[]")] // ../ of an item is the array
    [InlineData("{{#each xs}}[{{../../title}}]{{/each}}", """{"title":"T","xs":[1]}""", "[T]")]
    [InlineData("{{#person}}{{../../../title}}{{/person}}", """{"title":"T","person":{}}""", "")] // empty object is falsy
    [InlineData("{{#person}}{{../../../title}}{{/person}}", """{"title":"T","person":{"a":1}}""", "T")] // ../ at the root stays
    public void RendersAsMustachio(string template, string model, string expected) =>
        Assert.Equal(expected, Html(template, model));

    [Theory]
    [InlineData("false")]
    [InlineData("null")]
    [InlineData("\"\"")]
    [InlineData("0")]
    [InlineData("0.0")]
    [InlineData("[]")]
    [InlineData("{}")]
    public void FalsyValuesRenderNeitherSectionNorEach(string value)
    {
        var model = $$"""{"v":{{value}}}""";
        Assert.Equal("", Html("{{#v}}Shouldn't be rendered!{{inner}}{{/v}}", model));
        Assert.Equal("", Html("{{#each v}}Shouldn't be rendered!{{/each}}", model));
        Assert.Equal("inverted", Html("{{^v}}inverted{{/v}}", model));
    }

    [Fact]
    public void MissingValuesAreFalsy() => Assert.Equal("no", Html("{{#v}}yes{{/v}}{{^v}}no{{/v}}"));

    [Theory]
    [InlineData("{{content}}", "&lt;wbr&gt;")]
    [InlineData("{{{content}}}", "<wbr>")]
    [InlineData("{{& content }}", "<wbr>")]
    [InlineData("{{{ content }}}", "<wbr>")]
    public void HtmlEscapesDoubleBracesOnly(string template, string expected) =>
        Assert.Equal(expected, Html(template, """{"content":"<wbr>"}"""));

    [Fact]
    public void EscapesQuotesAmpersandsAndApostrophesInHtml() =>
        Assert.Equal("<a title=\"&quot;Tom &amp; Jerry&#39;s&quot;\">", Html("<a title=\"{{t}}\">", """{"t":"\"Tom & Jerry's\""}"""));

    [Fact]
    public void TripleBracesInAnAttributeAreRaw() =>
        Assert.Equal("<a href=\"https://x.test/?a=1&b=2\">go</a>", Html("<a href=\"{{{ url }}}\">go</a>", """{"url":"https://x.test/?a=1&b=2"}"""));

    [Fact]
    public void TextOutputNeverEscapes() =>
        Assert.Equal("<b> & \"q\"", Text("{{a}}", """{"a":"<b> & \"q\""}"""));

    [Fact]
    public void EachOverAScalarOrAnObjectIsARenderError()
    {
        var e = Assert.Throws<TemplateRenderException>(() => Html("{{#each x}}{{/each}}", """{"x":"str"}"""));
        Assert.Contains("'x' is used like an array", e.Message);
        Assert.Throws<TemplateRenderException>(() => Html("{{#each x}}{{/each}}", """{"x":{"a":1}}"""));
    }

    [Theory]
    [InlineData("{{#Collection}}Collection has elements{{/AnotherCollection}}")]
    [InlineData("{{#ACollection}}{{.}}{{/each}}")]
    [InlineData("{{#ACollection}}{{.}}{{/ACollection}}{{/each}}")]
    [InlineData("{{/each}}")]
    [InlineData("{{#each}}")]
    [InlineData("{{#eachs}}{{name}}{{/each}}")]
    [InlineData("{{#each element}}{{name}}")]
    [InlineData("{{#element}}{{name}}")]
    [InlineData("{{^element}}{{name}}")]
    [InlineData("{{.../asdf.content}}")]
    [InlineData("{{/}}")]
    [InlineData("{{./}}")]
    [InlineData("{{..}}")]
    [InlineData("{{//}}")]
    [InlineData("{{@}}")]
    [InlineData("{{$}}")]
    [InlineData("{{first name}}")]
    [InlineData("{{ #each xs }}")] // a tag's sigil must follow the braces
    [InlineData("{{#each xs}}{{/each }}")]
    [InlineData("{{{ @content }}}")] // only in a layout
    public void RejectsInvalidTemplates(string template) =>
        Assert.Throws<TemplateSyntaxException>(() => TemplateParser.Parse(template));

    [Theory]
    [InlineData("{{first_name}}")]
    [InlineData("{{company.name}}")]
    [InlineData("{{../x}}")]
    [InlineData("{{#c}}a{{^c}}b{{/c}}")]
    [InlineData("{{^c}}b{{#c}}a{{/c}}")]
    [InlineData("{{#each xs}}{{/each}}")]
    public void AcceptsValidTemplates(string template) => TemplateParser.Parse(template);

    [Theory]
    [InlineData("1{{first name}}", 1)]
    [InlineData("ss{{#each company.name}}\nasdf", 1)]
    [InlineData("xzyhj{{#company.address_line_1}}\nasdf{{dsadskl-sasa@}}\n{{/each}}", 3)]
    [InlineData("fff{{#each company.address_line_1}}\n{{dsadskl-sasa@}}\n{{/each}}", 1)]
    [InlineData("a{{name}}dd\ndd{{/each}}dd", 1)]
    public void ReportsEveryError(string template, int count)
    {
        var e = Assert.Throws<TemplateSyntaxException>(() => TemplateParser.Parse(template));
        Assert.Equal(count, e.Errors.Count);
    }

    [Fact]
    public void ErrorsCarryLineAndCharacter()
    {
        Assert.Null(TemplateParser.TryParse("Hi\nthere {{#each xs}}\n  {{/person}}", false, out var errors));
        Assert.Collection(errors,
            e => { Assert.Equal(2, e.Line); Assert.Equal(7, e.CharacterPosition); Assert.Contains("opened but not closed: 'xs'", e.Message); },
            e => { Assert.Equal(3, e.Line); Assert.Equal(3, e.CharacterPosition); Assert.Contains("mismatched", e.Message); });
    }

    [Fact]
    public void LayoutWrapsTheTemplateAtContent()
    {
        var layout = TemplateParser.Parse("<html><h1>{{company}}</h1>{{{ @content }}}<footer>{{ year }}</footer></html>", allowContent: true);
        Assert.Equal(1, layout.ContentPlaceholders);
        var body = TemplateParser.Parse("<p>Hi {{name}}</p>{{#each xs}}<i>{{.}}</i>{{/each}}");
        var html = TemplateRenderer.Render(body, Model("""{"company":"A&B","name":"<Ann>","year":2026,"xs":["x","y"]}"""), TemplateOutput.Html, layout);
        Assert.Equal("<html><h1>A&amp;B</h1><p>Hi &lt;Ann&gt;</p><i>x</i><i>y</i><footer>2026</footer></html>", html);
    }

    [Fact]
    public void ContentInsideALayoutSectionRendersInThatContext()
    {
        var layout = TemplateParser.Parse("{{#each Company.ceo.products}}{{{@content}}}{{/each}}", allowContent: true);
        var body = TemplateParser.Parse("<li>{{ name }} by {{../../last_name}}</li>");
        var html = TemplateRenderer.Render(body, Model("""{"Company":{"ceo":{"last_name":"Smith","products":[{"name":"a"},{"name":"b"}]}}}"""), TemplateOutput.Html, layout);
        Assert.Equal("<li>a by Smith</li><li>b by Smith</li>", html);
    }

    [Fact]
    public void CountsContentPlaceholders() =>
        Assert.Equal(2, TemplateParser.Parse("{{{ @content }}}{{{@content}}}", allowContent: true).ContentPlaceholders);

    [Fact]
    public void InfersTheModelAsMustachio()
    {
        var inferred = TemplateModelInference.Infer(TemplateParser.Parse(
            "{{Name}}{{#Person}}{{Name}}{{#each ../Person.FavoriteColors}}{{.}}{{/each}}{{/Person}}" +
            "{{#each Employees}}{{person.name}}{{#each favoriteColors}}{{hue}}{{/each}}{{/each}}"));
        Assert.Equal(
            """{"Name":"Name_Value","Person":{"Name":"Name_Value","FavoriteColors":["FavoriteColors_1","FavoriteColors_2","FavoriteColors_3"]},"Employees":[{"person":{"name":"name_Value"},"favoriteColors":[{"hue":"hue_Value"}]}]}""",
            inferred.ToJsonString());
    }

    [Fact]
    public void InfersAnEmptyModelFromPlainText() =>
        Assert.Equal("{}", TemplateModelInference.Infer(TemplateParser.Parse("no tags")).ToJsonString());
}
