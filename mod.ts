/**
 * soad — data assimilation with diffusion models (State-Observation Augmented Diffusion, SOAD,
 * and the SDA baseline) on a two-layer quasi-geostrophic model, in Deno.
 *
 * This entry point is the documented core:
 * - **QG model**: {@link QGModel} (pyqg's two-layer model to round-off), {@link icNoise};
 * - **data**: {@link generateDataset} (QG windows into a Zarr store with coordinates),
 *   {@link openDatasetStore}, {@link readWindow}, {@link DATA_PRESETS};
 * - **observations**: the paper's operators ({@link arctan3x}, {@link sin3x}, {@link vor2vel}),
 *   your own ({@link elementwiseOperator}, {@link linearOperator}, {@link functionOperator},
 *   {@link registerOperator}), masks, {@link observeStack}, backgrounds;
 * - **priors**: {@link loadPrior} (a shipped name, path or URL; with what the prior was trained
 *   for and its sampler defaults), {@link normalise} / {@link denormalise};
 * - **assimilation**: {@link assimilate} (SOAD or SDA, defaults from the prior),
 *   {@link saveAnalysis} (Zarr with coordinates), metrics and baselines;
 * - **training and experiments**: {@link train}, {@link runExperiment};
 * - **I/O**: `.npy`, safetensors, Zarr groups, PNG, output folders; ONNX export and engine.
 *
 * Kernels and internals (FFT, conv engine, sampler pieces, layouts of parameters, …) are in the
 * second entry point `@soad/soad/internal`; the tasks are entry points too
 * (`@soad/soad/demo`, `@soad/soad/assimilate`, …).
 *
 * @example
 * ```ts
 * import {
 *   arctan3x,
 *   assimilate,
 *   denormalise,
 *   loadPrior,
 *   normalise,
 *   observeStack,
 *   Rng,
 *   selectBackend,
 * } from "@soad/soad";
 *
 * await selectBackend();
 * const prior = await loadPrior("arctan3x"); // shipped; or a path / URL of weights
 * const q = new Float32Array(9 * 2 * 64 * 64); // a physical q window [frame][layer][y][x]
 * const truth = normalise(q, prior); // the prior's units
 * const observations = observeStack(truth, 9, 64, 64, {
 *   operators: [arctan3x],
 *   ratio: 0.25,
 *   interval: 2,
 *   rng: new Rng(0),
 * });
 * const r = await assimilate({ prior, observations, steps: 2 }); // t-max: the prior's (0.85)
 * const analysis = denormalise(r.mean, prior); // physical q again
 * console.log(analysis.length); // 73728
 * prior.dispose();
 * ```
 * @module
 */

export { BlowUpError, IntegrityError, InvalidArgumentError, SoadError } from "./src/errors.ts";
export { MemoryLimitError } from "./src/diffusion/memory_plan.ts";
export { Rng } from "./src/rng.ts";

// QG model
export { QGModel, type QGModelOptions } from "./src/qg/model.ts";
export { QG_DEFAULTS, type QGDerived, type QGParams, resolveParams } from "./src/qg/params.ts";
export type { SpectralGrid } from "./src/qg/spectral.ts";
export type { FFTBackend, RealFFT2 } from "./src/fft/types.ts";
export { icNoise } from "./src/qg/initial.ts";
export type { QGDiagnostics, SpectrumResult } from "./src/qg/diagnostics.ts";

// Tensor backend (tfjs: WebGPU on a real GPU, SIMD WASM otherwise)
export {
  type BackendInfo,
  type BackendName,
  defaultThreads,
  selectBackend,
  type SelectBackendOptions,
} from "./src/backend/select.ts";

// Dataset: QG trajectories → pooled windows in a Zarr v2 store
export {
  DATA_PRESETS,
  type DataConfig,
  type DataConfigOverrides,
  type DataPresetName,
  type DataSplit,
  dataSplit,
  resolveDataConfig,
} from "./src/data/config.ts";
export {
  generateDataset,
  type GenerateOptions,
  type GenerateResult,
  type Shard,
} from "./src/data/generate.ts";
export {
  type DatasetStore,
  openDatasetStore,
  type OpenStoreOptions,
  readWindow,
  type StoreAttributes,
  storeCoordinates,
} from "./src/data/store.ts";
export { FsStore } from "./src/data/fs_store.ts";
export { averagePool } from "./src/data/pool.ts";
export { type WindowBatch, WindowLoader, type WindowLoaderOptions } from "./src/data/loader.ts";

// Observations: operators (the paper's and yours), masks, noise, backgrounds
export {
  elementwiseOperator,
  type ElementwiseSpec,
  functionOperator,
  type FunctionSpec,
  linearOperator,
  type LinearSpec,
  type NumericArray,
  type ObservationOperator,
} from "./src/obs/operator.ts";
export {
  getOperator,
  hasOperator,
  registeredOperators,
  registerOperator,
} from "./src/obs/registry.ts";
export { arctan3x, sin3x } from "./src/obs/pointwise.ts";
export { vor2vel } from "./src/obs/vor2vel.ts";
export {
  type AugmentedLayout,
  augmentedLayout,
  customLayout,
  type LayoutEntry,
  type ModelName,
} from "./src/obs/layout.ts";
export { randomMask, type SpatialMask, strideMask, userMask } from "./src/obs/mask.ts";
export type { NoiseLaw } from "./src/obs/noise.ts";
export {
  type Observation,
  observe,
  type ObserveOptions,
  observeStack,
  type ObserveStackOptions,
  SIGMA_OBS,
} from "./src/obs/observe.ts";
export {
  knownBackground,
  SIGMA_BACKGROUND,
  unknownBackground,
  type UnknownBackgroundOptions,
} from "./src/obs/background.ts";

// Priors: loading by name/path/URL, metadata, normalisation, the U-Net
export {
  denormalise,
  fetchPriorBytes,
  loadPrior,
  type NormalisationSource,
  normalise,
  type Prior,
  type PriorNetwork,
  priorUrl,
  SHIPPED_PRIORS,
  shippedPriorUrl,
} from "./src/diffusion/prior.ts";
export {
  checkPriorMetadata,
  type Climatology,
  type Normalisation,
  type PriorInfo,
  type PriorMetadata,
  priorMetadata,
  type PriorMetadataPatch,
  readPriorInfo,
  type TrainedFor,
  withPriorMetadata,
} from "./src/diffusion/prior_info.ts";
export {
  agreedBackgroundLikelihood,
  agreedSamplerDefault,
  samplerDefault,
  type SamplerDefaults,
  type SamplerNumber,
  SPEC_CLIP_SCALE,
  SPEC_SAMPLER,
  SPEC_SIGMA_X,
  SPEC_TAU,
} from "./src/diffusion/sampler_defaults.ts";
export {
  agreedSparseSampler,
  checkSparseSampler,
  observedFraction,
  samplerForDensity,
  SPARSE_SAMPLER_KEYS,
  sparseApplies,
  type SparseSampler,
  type SparseSamplerKey,
} from "./src/diffusion/sparse_sampler.ts";
export type { Denoiser, DenoiseVjpResult, WindowShape } from "./src/diffusion/denoiser.ts";
export {
  paperUNetConfig,
  type ResolvedUNetConfig,
  type UNetConfig,
  unetConfigFromWeights,
} from "./src/diffusion/unet_config.ts";

// Assimilation: SOAD and SDA posterior sampling, saving, metrics, baselines
export {
  assimilate,
  type AssimilateOptions,
  type AssimilateResult,
  type AssimilationPrior,
} from "./src/assim/assimilate.ts";
export { checkPriorFit, type PriorFitQuery, priorMismatches } from "./src/assim/prior_fit.ts";
export { saveAnalysis, type SaveAnalysisOptions } from "./src/assim/save_analysis.ts";
export {
  assimilateInWorker,
  type SerializedObservation,
  type WorkerAssimilateOptions,
} from "./src/assim/assimilate_parallel.ts";
export type { SampleReport, StepInfo } from "./src/assim/sampler.ts";
export {
  crps,
  type EnsembleStats,
  ensembleStats,
  type Num,
  rmsePerFrame,
  spreadSkillRatio,
} from "./src/assim/metrics.ts";
export {
  climatologyEstimate,
  normalisedMoments,
  type PointBackground,
  type PointPrior,
  pointwisePosteriorMean,
} from "./src/assim/baselines.ts";

// Training the diffusion prior
export { train, type TrainOptions, type TrainResult } from "./src/train/trainer.ts";
export { resolveTrainConfig, TRAIN_DEFAULTS, type TrainConfig } from "./src/train/config.ts";
export {
  SyntheticSource,
  type SyntheticSourceOptions,
  type TrainSplit,
  type WindowSource,
} from "./src/train/source.ts";
export { StoreSource, type StoreSourceOptions } from "./src/train/store_source.ts";
export type { StepRecord } from "./src/train/log.ts";
export type { GradEngine } from "./src/train/engine.ts";
export type { SampleGradient, SampleTask } from "./src/train/sample_step.ts";

// Experiments: the paper's evaluation grid
export {
  type ExperimentResults,
  readResults,
  runExperiment,
  type RunExperimentOptions,
  type RunExperimentResult,
} from "./src/harness/experiment.ts";
export { type CellResult, type ExperimentModel } from "./src/harness/experiment_cell.ts";
export {
  type ExperimentConfig,
  type ExperimentData,
  type ExperimentOptionalKey,
  type ResolvedExperimentConfig,
} from "./src/harness/experiment_config.ts";
export {
  enumerateGrid,
  EXPERIMENT_OPS,
  type ExperimentCell,
  type ExperimentOp,
  type GridSpec,
  type MaskSpec,
  type Method,
  type Setting,
  type VariantSpec,
} from "./src/harness/experiment_grid.ts";
export { type EvaluationSplit, storeExperimentData } from "./src/harness/experiment_inputs.ts";

// I/O formats: NumPy .npy, safetensors, Zarr groups, PNG, output folders, progress
export {
  encodeNpy,
  type EncodeNpyOptions,
  type NpyArray,
  type NpyData,
  parseNpy,
  readNpy,
  writeNpy,
} from "./src/io/npy.ts";
export {
  type NamedTensor,
  readSafetensors,
  readSafetensorsMetadata,
  replaceSafetensorsMetadata,
  writeSafetensors,
} from "./src/io/safetensors.ts";
export { writeZarrGroup, type ZarrVariable } from "./src/io/zarr_write.ts";
export {
  OutputExistsError,
  prepareOutputDir,
  type PrepareOutputDirOptions,
  prepareOutputFile,
} from "./src/io/output_dir.ts";
export { type Color, createImage, encodePng, type Image, writePng } from "./src/io/image.ts";
export { Progress, type ProgressOptions, type ProgressStream } from "./src/io/progress.ts";

// ONNX: export the denoiser, run it on onnxruntime-web
export { exportOnnx, type ExportOnnxOptions, type WeightSource } from "./src/onnx/export.ts";
export {
  createOrtDenoiser,
  type OrtDenoiser,
  type OrtDenoiserOptions,
  type OrtProvider,
} from "./src/onnx/engine.ts";
export { loadOnnxModel, type OnnxModelFile } from "./src/onnx/model_file.ts";

// Cycling twin experiment (issue 22): the LETKF, probabilistic scores and the cycling driver
export { gaspariCohn } from "./src/assim/gaspari_cohn.ts";
export {
  letkfAnalysis,
  type LetkfGrid,
  type LetkfInput,
  type LetkfNeighbours,
  letkfNeighbours,
  type LetkfOptions,
} from "./src/assim/letkf.ts";
export { setLetkfThreads } from "./src/assim/letkf_wasm.ts";
export { crpsGaussian, rankHistogram } from "./src/assim/metrics.ts";
export {
  cycle,
  CYCLE_METHODS,
  type CycleMethod,
  type CycleOptions,
  type CycleResult,
  type SimulatedTruth,
} from "./src/harness/cycle.ts";
export type { CycleSummary } from "./src/harness/cycle_outputs.ts";
export type { MethodScores } from "./src/harness/cycle_verify.ts";
export {
  loadTruth,
  simulateTruth,
  type SimulateTruthOptions,
  type Truth,
} from "./src/harness/truth.ts";
export type { WindowAssimilator, WindowRequest } from "./src/harness/window_cycle.ts";
export {
  type AssimilatorPrior,
  type CyclePrior,
  priorAssimilator,
  type SamplerSettings,
} from "./src/harness/prior_assimilator.ts";
export { type TuneGrid, tuneLetkf, type TuneRow } from "./src/harness/tune_letkf.ts";
export {
  type CycleMergeSummary,
  type MergeCycleOptions,
  mergeCycleRuns,
  type MergedMethod,
  type RunStats,
} from "./src/harness/cycle_merge.ts";
