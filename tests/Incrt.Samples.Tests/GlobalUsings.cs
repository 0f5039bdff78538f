global using Incrt.Attention;
global using Incrt.Control;
global using Incrt.Models;
global using Incrt.Surgery;
global using TorchSharp;
