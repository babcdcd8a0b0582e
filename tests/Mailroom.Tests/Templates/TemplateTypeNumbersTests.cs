using Mailroom.Core.Templates;

namespace Mailroom.Tests.Templates;

/// <summary>The template type is stored as a number: changing one would silently rewrite stored templates.</summary>
public sealed class TemplateTypeNumbersTests
{
    [Fact]
    public void TemplateTypeNumbersAreFrozen()
    {
        Assert.Equal([0, 1], Enum.GetValues<TemplateType>().Select(v => (int)v));
        Assert.Equal(["Standard", "Layout"], Enum.GetNames<TemplateType>());
    }
}
