namespace Mailroom.Tests.Infrastructure;

/// <summary>Persisted enums are stored as numbers (and some names are wire values): a test freezes both.</summary>
public static class EnumAssert
{
    /// <summary><typeparamref name="T"/>'s members, in order, have exactly <paramref name="numbers"/> and, when given,
    /// <paramref name="names"/>.</summary>
    public static void Frozen<T>(int[] numbers, string[]? names = null) where T : struct, Enum
    {
        Assert.Equal(numbers, Enum.GetValues<T>().Select(v => Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture)));
        if (names is not null)
            Assert.Equal(names, Enum.GetNames<T>());
    }
}
