using Mailroom.Core.Templates;

namespace Mailroom.Tests.Templates;

/// <summary>The template type is stored as a number: changing one would silently rewrite stored templates.</summary>
public sealed class TemplateTypeNumbersTests
{
    [Fact]
    public void TemplateTypeNumbersAreFrozen() => EnumAssert.Frozen<TemplateType>([0, 1], ["Standard", "Layout"]);
}
