namespace Mailroom.Core;

/// <summary>count/offset of a list call (spec §1.6): count 1–500, offset ≥ 0, refused with the family's code.</summary>
public readonly record struct Paging(int Count, int Offset)
{
    public static Paging Validate(int? count, int? offset, int errorCode, int maxTotal = int.MaxValue)
    {
        var c = count ?? 100;
        var o = offset ?? 0;
        if (c < 1 || c > 500)
            throw new MailroomException(errorCode, "The 'count' parameter must be between 1 and 500.");
        if (o < 0)
            throw new MailroomException(errorCode, "The 'offset' parameter must be zero or greater.");
        if ((long)c + o > maxTotal)
            throw new MailroomException(errorCode, $"The sum of 'count' and 'offset' must not exceed {maxTotal}.");
        return new Paging(c, o);
    }
}
