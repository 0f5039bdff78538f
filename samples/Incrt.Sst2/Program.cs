// SST-2 sentiment with INCRT: see README.md in this folder.
return Incrt.Sst2.Sst2App.Run(args);
