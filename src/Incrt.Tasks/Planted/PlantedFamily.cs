namespace Incrt.Tasks.Planted;

/// <summary>The planted task families: tasks whose minimal head count K follows from the construction.</summary>
public enum PlantedFamily
{
    /// <summary>Output the tokens found at K fixed positions relative to the [CLS] query: each head can address one
    /// position by its position embedding alone (<see cref="OffsetRetrievalTask"/>).</summary>
    OffsetRetrieval,

    /// <summary>Output the one value token inside each of K consecutive segments, at a random position within its
    /// segment: each head must combine content with a region (<see cref="SegmentRetrievalTask"/>).</summary>
    SegmentRetrieval,
}
