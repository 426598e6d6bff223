// Package pipeline defines pipelines, tasks and connections, after the
// Rubin/LSST pipe_base: the pipeline YAML format, the Task and TaskDef
// interfaces, the registry of task classes, the "exec" task class for
// external commands, and what a task sees of the butler while it runs
// (QuantumButler). Planning quantum graphs (lib/qgraph) and executing
// quanta (lib/execute) build on this package.
//
// # Terms
//
//   - Task class (TaskDef): a named, registered kind of task
//     ("skybutler.examples.IsrTask"): its config schema, and for a config
//     its dimensions and connections. Register adds one; the "exec" class
//     is built in.
//   - Task: a task class made with one config (TaskDef.New); it runs
//     quanta.
//   - Label: the name of a task in a pipeline ("isr"). A pipeline may use
//     one class under several labels with different configs.
//   - Config: a task's configuration, field -> value, checked against its
//     class's ConfigSchema (types int, float, string, bool, list, map).
//     Its "connections" section maps connection names to dataset type
//     names: "connections.dark: myDark" renames a connection's dataset
//     type, as in pipe_base. A resolved config is stored as the
//     <label>_config dataset; Config.Marshal gives it with sorted keys.
//   - Connection: a dataset type a task reads or writes, under the
//     task's own name for it. Kinds: Input, PrerequisiteInput (must exist
//     before the run; with IsCalibration, found in CALIBRATION collections
//     by the quantum's timespan), Output, InitInput and InitOutput (read or
//     written once per task, without dimensions). Multiple connections hold
//     a list of refs (fan-in); DeferLoad inputs are read on demand; Minimum
//     is how many refs an input needs (0: optional).
//   - Automatic connections: every task also has the InitOutput _config
//     (<label>_config, storage class Config) and the Outputs _metadata
//     (<label>_metadata, TaskMetadata) and _log (<label>_log,
//     ButlerLogRecords) with the task's dimensions. The pipeline adds them;
//     the executor writes them.
//   - Dimensions of a task: the dimensions of its quanta (one quantum per
//     data ID over them).
//   - Quantum: one run of one task for one data ID, with resolved input
//     and output refs. The task sees it through a QuantumButler (Get, Put,
//     Refs by connection name) and a QuantumContext (label, data ID,
//     config, scratch directory). A task returns ErrNoWork (wrapped) when
//     it has nothing to do.
//   - Pipeline: labelled tasks in dependency order (a task comes after the
//     producers of its inputs), with subsets, parameters and contracts.
//   - Subset: a named set of labels, usable wherever labels are (selectors,
//     include/exclude).
//   - Contract: a boolean expression over the tasks' configs that must
//     hold ("isr.doDark == True"); Load fails with its msg otherwise.
//   - Dataset types of a pipeline (Pipeline.DatasetTypes): overall inputs
//     (read, not produced), prerequisites, intermediates (produced and
//     read), outputs (produced, not read) and init-outputs.
//
// # Pipeline YAML
//
//	description: Free text.
//	instrument: SPHEREx               # optional
//	parameters:                       # optional: name -> value
//	  darkScale: 1.0
//	imports:                          # optional, read before this file's tasks
//	  - location: other.yaml          # relative to this file; $VAR and ${VAR} expand
//	    include: [label, subset]      # or exclude: [...]; not both
//	    importContracts: true         # default true
//	  - base.yaml                     # short form: everything
//	tasks:                            # label -> task
//	  isr:
//	    class: skybutler.examples.IsrTask
//	    config:                       # a mapping, or a list of mappings applied in order
//	      doDark: true
//	      darkScale: parameters.darkScale   # the value of a parameter
//	      connections.dark: myDark          # rename a connection's dataset type
//	  measure: skybutler.examples.MeasureTask   # short form: just the class
//	subsets:
//	  step1: {subset: [isr, measure], description: Per-detector work.}
//	  step2: [summarize]              # short form
//	contracts:
//	  - contract: "isr.doDark == True and measure.threshold >= 3"
//	    msg: Why it must hold.
//	  - "isr.darkScale > 0"           # short form
//
// Imports: imported tasks come first, in import order, then this file's;
// two imports may not define one label. A label of this file that an
// import defines overrides it: with the same class (or no class) its
// config is applied over the imported one, with another class it
// replaces the task. Parameters of this file override imported ones and
// apply to imported tasks too. include/exclude keep or drop tasks by label
// or subset; imported subsets that lose a task, and imported contracts
// about a dropped task, are dropped.
//
// Config values: a string "parameters.NAME" (the whole value) is replaced
// by the parameter's value. A field of type float accepts an int. A
// resolved config holds every field of the class's schema.
//
// Contract expressions: label.field (and label.field.key inside
// mappings, e.g. isr.connections.dark), literals True, False, None,
// numbers and 'quoted' or "quoted" strings, == != < > <= >= (chained as
// in Python), + - * /, and, or, not and parentheses.
//
// Selectors: Load("pipe.yaml#isr,step2") keeps the tasks named, subsets
// expanding to their tasks. Pipeline.Subset does the same on a loaded
// pipeline; Pipeline.Override applies a config override as pipetask -c.
//
// Labels and subset names are identifiers ([A-Za-z_][A-Za-z0-9_]*) other
// than and, or, not, True, False, None, true, false, null and parameters.
//
// # Errors
//
// Every problem of a file is an *Error "FILE:LINE: KEY: message" naming
// the YAML key (tasks.isr.config.doDrak) and wrapping one of the sentinel
// errors (ErrUnknownTaskClass, ErrConfig, ErrCycle, ...). Unknown keys,
// task classes, config fields and labels come with a "did you mean" for
// near misses. Load checks everything that needs no dimension universe:
// classes, configs, connections, dataset types produced twice, dataset
// type conflicts between tasks, cycles, subsets, imports and contracts.
// Validate(universe) checks dimensions and puts dimension lists in
// canonical form (required closure, universe order).
//
// # Task classes
//
// A task class implements TaskDef; when its config needs more checks than
// field types it also implements ConfigValidator. The "exec" class
// (ExecTask) runs an external command on staged copies of its inputs;
// its connections are declared in its config (DeclaredConnections). The
// example classes of examples/pipelines are registered by that package's
// Register.
package pipeline
