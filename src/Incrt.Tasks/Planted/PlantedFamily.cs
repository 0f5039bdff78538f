namespace Incrt.Tasks.Planted;

/// <summary>The planted task families: tasks whose minimal head count K follows from the construction.</summary>
public enum PlantedFamily
{
    /// <summary>Output the tokens found at K fixed positions relative to the [CLS] query: each head can address one
    /// position by its position embedding alone (<see cref="OffsetRetrievalTask"/>).</summary>
    OffsetRetrieval,

    /// <summary>Output the position of each of K markers that appear once per sequence at random positions: each head
    /// must find one marker by content (<see cref="MarkerLocationTask"/>).</summary>
    MarkerLocation,
}
