/**
 * soad — data-driven data assimilation with diffusion models (State-Observation Augmented
 * Diffusion, SOAD, and the SDA baseline) on a two-layer quasi-geostrophic model, in Deno.
 *
 * This entry point exports the typed public API: the pyqg-exact QG solver, the real 2-D FFT
 * (SIMD WASM with a TypeScript fallback), and the I/O helpers (NumPy `.npy`, PNG figures,
 * progress, atomic writes).
 *
 * @example
 * ```ts
 * import { icNoise, QGModel } from "./mod.ts";
 * const model = new QGModel({ nx: 64, dt: 900 });
 * model.setQ(icNoise(64, 64, 0));
 * model.step(96); // one day
 * const d = model.diagnostics();
 * console.log(d.ke > 0, d.cfl < 1); // true true
 * ```
 * @module
 */

export { BlowUpError, InvalidArgumentError, SoadError } from "./src/errors.ts";
export { Rng } from "./src/rng.ts";

// QG solver
export { QGModel, type QGModelOptions } from "./src/qg/model.ts";
export {
  derivedConstants,
  QG_DEFAULTS,
  type QGDerived,
  type QGParams,
  resolveParams,
} from "./src/qg/params.ts";
export { hashUniform, icModes, icNoise } from "./src/qg/initial.ts";
export {
  type InversionCoefficients,
  inversionCoefficients,
  invertPV,
  spectralFilter,
  type SpectralGrid,
  spectralGrid,
} from "./src/qg/spectral.ts";
export {
  isotropicSpectrum,
  type QGDiagnostics,
  qgDiagnostics,
  type QGStateView,
  spectralMeanSquare,
  type SpectrumResult,
} from "./src/qg/diagnostics.ts";

// FFT
export { createRealFFT2, type RealFFT2Options, simdSupported } from "./src/fft/create.ts";
export type { FFTBackend, RealFFT2 } from "./src/fft/types.ts";
export { FFT_MAX_SIZE, FFT_MIN_SIZE } from "./src/fft/create.ts";

// I/O: NumPy .npy, atomic writes, PNG figures, progress
export {
  encodeNpy,
  type EncodeNpyOptions,
  type NpyArray,
  type NpyData,
  parseNpy,
  readNpy,
  writeNpy,
} from "./src/io/npy.ts";
export { writeFileAtomic, writeJsonAtomic, writeTextAtomic } from "./src/io/atomic.ts";
export { type Color, createImage, encodePng, type Image, writePng } from "./src/io/image.ts";
export {
  type FieldPanel,
  fieldPanels,
  type FieldPanelsOptions,
  lineChart,
  type LineChartOptions,
  type LineSeries,
} from "./src/io/plot.ts";
export { Progress, type ProgressOptions, type ProgressStream } from "./src/io/progress.ts";
export {
  type ColormapName,
  symmetricRange,
  type SymmetricRangeOptions,
} from "./src/io/colormap.ts";

// Tensor backend (tfjs: WebGPU on a real GPU, SIMD WASM otherwise)
export {
  type BackendInfo,
  type BackendName,
  defaultThreads,
  readTensor,
  selectBackend,
  type SelectBackendOptions,
} from "./src/backend/select.ts";
export {
  closeConvThreads,
  convEngineInfo,
  type ConvGeometry,
  setConvThreads,
  wasmConvFilterGrad,
  wasmConvForward,
} from "./src/backend/wasm_conv.ts";
export {
  type CircularConvGeometry,
  fftConvSupported,
  wasmCircularConvBackwardFFT,
  wasmCircularConvFFT,
} from "./src/backend/wasm_fft_conv.ts";
export { type CircularConvMethod, setCircularConvMethod } from "./src/diffusion/circular_conv.ts";
export {
  type NamedTensor,
  readSafetensors,
  readSafetensorsMetadata,
  writeSafetensors,
} from "./src/io/safetensors.ts";

// Diffusion prior: the SOAD/SDA U-Net denoiser
export type { Denoiser, DenoiseVjpResult, WindowShape } from "./src/diffusion/denoiser.ts";
export { epsProfile, type EpsProfileRow } from "./src/diffusion/eps_profile.ts";
export {
  createUNet,
  type CreateUNetOptions,
  type ForwardOptions,
  type ParamVjpResult,
  type UNet,
} from "./src/diffusion/unet.ts";
export {
  initUNetWeights,
  paperUNetConfig,
  type ResolvedUNetConfig,
  resolveUNetConfig,
  type UNetConfig,
  unetConfigFromWeights,
  unetParamCount,
  unetParamShapes,
} from "./src/diffusion/unet_config.ts";

// Dataset: QG trajectories → pooled windows in a Zarr v2 store
export {
  configKey,
  DATA_PRESETS,
  type DataConfig,
  type DataConfigOverrides,
  type DataPresetName,
  type DataSplit,
  dataSplit,
  outputGrid,
  resolveDataConfig,
  validateDataConfig,
} from "./src/data/config.ts";
export {
  generateDataset,
  type GenerateOptions,
  type GenerateResult,
  type Shard,
  validateShard,
} from "./src/data/generate.ts";
export { finalizeDataset, type LayerStats, windowStats } from "./src/data/finalize.ts";
export {
  type DatasetStore,
  openDatasetStore,
  readWindow,
  STORE_FORMAT,
  type StoreAttributes,
} from "./src/data/store.ts";
export { type WindowBatch, WindowLoader, type WindowLoaderOptions } from "./src/data/loader.ts";
export { averagePool } from "./src/data/pool.ts";
export {
  type SeedCheckpoint,
  type SimulateOptions,
  type SimulateResult,
  simulateSeed,
} from "./src/data/simulate.ts";

// Observations: operators, augmented layouts, masks, noise laws, backgrounds
export {
  checkFrames,
  elementwiseOperator,
  type ElementwiseSpec,
  linearOperator,
  type LinearSpec,
  type NumericArray,
  type ObservationOperator,
} from "./src/obs/operator.ts";
export { arctan3x, sin3x, SIN3X_AMPLITUDE } from "./src/obs/pointwise.ts";
export { BUILTIN_OPERATORS, builtinOperator } from "./src/obs/builtin.ts";
export { vor2vel, VOR2VEL_SCALES } from "./src/obs/vor2vel.ts";
export {
  type AugmentedLayout,
  augmentedLayout,
  augmentState,
  customLayout,
  type LayoutEntry,
  layoutEntry,
  type ModelName,
  STATE_CHANNELS,
} from "./src/obs/layout.ts";
export { checkMask, randomMask, type SpatialMask, strideMask, userMask } from "./src/obs/mask.ts";
export { observedFrames } from "./src/obs/frames.ts";
export { type NoiseLaw, sampleNoise } from "./src/obs/noise.ts";
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
  Q_STD,
  SIGMA_BACKGROUND,
  unknownBackground,
  type UnknownBackgroundOptions,
} from "./src/obs/background.ts";

// Assimilation: SOAD and SDA posterior sampling
export {
  assimilate,
  type AssimilateOptions,
  type AssimilateResult,
  defaultLayout,
} from "./src/assim/assimilate.ts";
export {
  assimilateInWorker,
  type SerializedObservation,
  type WorkerAssimilateOptions,
} from "./src/assim/assimilate_parallel.ts";
export { PUBLISHED_RMSE, publishedRmse, type PublishedTable } from "./src/assim/published.ts";
export {
  runSampler,
  type SampleReport,
  type SamplerOptions,
  type SamplerResult,
  type StepInfo,
} from "./src/assim/sampler.ts";
export { type PiResult, type PiStats, type PosteriorNoise, priorNoise } from "./src/assim/score.ts";
export { SIGMA_X, soadCoefficient, soadNoise, type SoadOptions } from "./src/assim/soad.ts";
export { SDA_GAMMA, sdaCoefficient, sdaNoise, type SdaOptions } from "./src/assim/sda.ts";
export {
  checkObservation,
  type PlannedObservation,
  planObservations,
  type SampleGeometry,
} from "./src/assim/plan.ts";
export {
  applyFdc,
  fdcActiveSteps,
  type FdcConfig,
  type PlannedBackground,
} from "./src/assim/fdc.ts";
export { augmentedIdentityDenoiser, isotropicGaussianDenoiser } from "./src/assim/gaussian.ts";
export {
  type AnomalyStats,
  anomalyStats,
  crps,
  type EnsembleStats,
  ensembleStats,
  type Num,
  rmsePerFrame,
  spreadSkillRatio,
  stateChannels,
} from "./src/assim/metrics.ts";
export {
  climatologyEstimate,
  normalisedMoments,
  type PointBackground,
  type PointPrior,
  pointwisePosteriorMean,
} from "./src/assim/baselines.ts";

// Training the diffusion prior
export {
  averageGradients,
  train,
  type TrainOptions,
  type TrainResult,
} from "./src/train/trainer.ts";
export { resolveTrainConfig, TRAIN_DEFAULTS, type TrainConfig } from "./src/train/config.ts";
export {
  readCheckpoint,
  type TrainState,
  writeCheckpoint,
  writeWeights,
} from "./src/train/checkpoint.ts";
export {
  SyntheticSource,
  type SyntheticSourceOptions,
  type TrainSplit,
  type WindowSource,
} from "./src/train/source.ts";
export { StoreSource, type StoreSourceOptions } from "./src/train/store_source.ts";
export { AdamW, type AdamWOptions, linearDecay } from "./src/train/adamw.ts";
export { type WarmStartReport, warmStartWeights } from "./src/train/warm_start.ts";
export type { StepRecord } from "./src/train/log.ts";

// Experiments: the paper's evaluation grid
export {
  type ExperimentResults,
  readResults,
  RESULTS_FORMAT,
  runExperiment,
  type RunExperimentOptions,
  type RunExperimentResult,
} from "./src/assim/experiment.ts";
export {
  type CellInputs,
  type CellResult,
  cellSeed,
  type ExperimentConfig,
  type ExperimentData,
  type ExperimentModel,
  prepareCell,
  type ResolvedExperimentConfig,
  resolveExperimentConfig,
  runCell,
} from "./src/assim/experiment_cell.ts";
export {
  cellKey,
  enumerateGrid,
  EXPERIMENT_OPS,
  type ExperimentCell,
  type ExperimentOp,
  type GridSpec,
  type MaskSpec,
  type Method,
  modelOf,
  PAPER_INTERVALS,
  PAPER_MASKS,
  parseMask,
  parseVariant,
  type Setting,
  type VariantSpec,
} from "./src/assim/experiment_grid.ts";
export {
  type CheckedCheckpoint,
  checkExperimentCheckpoint,
  type EvaluationSplit,
  type LoadedCheckpoint,
  loadExperimentCheckpoint,
  storeExperimentData,
} from "./src/assim/experiment_inputs.ts";
export { comparisonFigure, type ComparisonFigureOptions } from "./src/assim/experiment_figure.ts";
export {
  resultsCsv,
  type RmseTable,
  rmseTables,
  summaryMarkdown,
  writeFigures,
} from "./src/assim/experiment_report.ts";
export {
  formatCell,
  heatmap,
  type HeatmapGeometry,
  heatmapGeometry,
  type HeatmapOptions,
  MISSING_COLOR,
} from "./src/io/heatmap.ts";

// ONNX: export the denoiser, run it on onnxruntime-web
export {
  exportOnnx,
  type ExportOnnxOptions,
  ONNX_IO,
  type WeightSource,
} from "./src/onnx/export.ts";
export { exportOnnxVjp, ONNX_VJP_IO } from "./src/onnx/export_vjp.ts";
export {
  createOrtDenoiser,
  type OrtDenoiser,
  type OrtDenoiserOptions,
  type OrtProvider,
} from "./src/onnx/engine.ts";
export { loadOnnxModel, type OnnxModelFile } from "./src/onnx/model_file.ts";

// Types that public signatures refer to
export type { FsStore } from "./src/data/fs_store.ts";
export type { GradEngine } from "./src/train/engine.ts";
export type { SampleGradient, SampleTask } from "./src/train/sample_step.ts";
export type { NormalSource } from "./src/assim/normal.ts";

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
export { SymmetricEigen } from "./src/assim/symmetric_eigen.ts";
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
export type { Normalisation } from "./src/harness/cycle_obs.ts";
export {
  climatologyStates,
  loadTruth,
  simulateTruth,
  type SimulateTruthOptions,
  type Truth,
} from "./src/harness/truth.ts";
export type { WindowAssimilator, WindowRequest } from "./src/harness/window_cycle.ts";
export { type TuneGrid, tuneLetkf, type TuneRow } from "./src/harness/tune_letkf.ts";
