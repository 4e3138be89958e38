/**
 * soad's second entry point, `@soad/soad/internal`: the kernels and building blocks behind the
 * core API of `@soad/soad` (mod.ts) — the real FFT, the conv engine, spectral QG pieces, the
 * sampler and its likelihoods, FDC, parameter layouts, checkpoints, the experiment grid's cells,
 * plotting helpers. Stable enough for the tasks, tests and benchmarks that use them, but not the
 * documented surface: prefer `@soad/soad`. Nothing here repeats a name of mod.ts.
 *
 * @example
 * ```ts
 * import { createRealFFT2 } from "@soad/soad/internal";
 * const fft = createRealFFT2(8, 8, { backend: "ts" });
 * console.log(fft.backend); // "ts"
 * ```
 * @module
 */

export { derivedConstants } from "./src/qg/params.ts";
export { hashUniform, icModes } from "./src/qg/initial.ts";
export {
  type InversionCoefficients,
  inversionCoefficients,
  invertPV,
  spectralFilter,
  spectralGrid,
} from "./src/qg/spectral.ts";
export {
  isotropicSpectrum,
  qgDiagnostics,
  type QGStateView,
  spectralMeanSquare,
} from "./src/qg/diagnostics.ts";

// FFT
export { createRealFFT2, type RealFFT2Options, simdSupported } from "./src/fft/create.ts";

export { FFT_MAX_SIZE, FFT_MIN_SIZE } from "./src/fft/create.ts";
export {
  removeStrayTemporaries,
  writeFileAtomic,
  writeJsonAtomic,
  writeTextAtomic,
} from "./src/io/atomic.ts";
export {
  type FieldPanel,
  fieldPanels,
  type FieldPanelsOptions,
  lineChart,
  type LineChartOptions,
  type LineSeries,
} from "./src/io/plot.ts";
export {
  type ColormapName,
  symmetricRange,
  type SymmetricRangeOptions,
} from "./src/io/colormap.ts";

// Tensor backend (tfjs: WebGPU on a real GPU, SIMD WASM otherwise)
export { readTensor } from "./src/backend/select.ts";
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
export { epsProfile, type EpsProfileRow } from "./src/diffusion/eps_profile.ts";
export { checkpointed, tapeActive } from "./src/diffusion/checkpoint.ts";
export {
  activationUnitBytes,
  assertUNetMemory,
  planUNetMemory,
  type UNetMemoryPlan,
  type UNetPass,
} from "./src/diffusion/memory_plan.ts";
export {
  initUNetWeights,
  resolveUNetConfig,
  unetParamCount,
  unetParamShapes,
} from "./src/diffusion/unet_config.ts";

// Dataset: QG trajectories → pooled windows in a Zarr v2 store
export { configKey, outputGrid, validateDataConfig } from "./src/data/config.ts";
export { validateShard } from "./src/data/generate.ts";
export {
  finalizeDataset,
  type LayerStats,
  markIncomplete,
  recheckWindows,
  storeFingerprint,
  windowStats,
} from "./src/data/finalize.ts";
export { clearWindow, STORE_FORMAT, type WindowStatus, windowStatus } from "./src/data/store.ts";
export { crc32 } from "./src/io/crc32.ts";
export { FlowStats, type FlowStatsResult } from "./src/data/stats.ts";
export {
  type SeedCheckpoint,
  type SimulateOptions,
  type SimulateResult,
  simulateSeed,
} from "./src/data/simulate.ts";

// Observations: operators, augmented layouts, masks, noise laws, backgrounds
export { checkFrames } from "./src/obs/operator.ts";
export { SIN3X_AMPLITUDE } from "./src/obs/pointwise.ts";
export { BUILTIN_OPERATORS, builtinOperator } from "./src/obs/builtin.ts";
export { VOR2VEL_SCALES } from "./src/obs/vor2vel.ts";
export { augmentState, layoutEntry, STATE_CHANNELS } from "./src/obs/layout.ts";
export { checkMask } from "./src/obs/mask.ts";
export { observedFrames } from "./src/obs/frames.ts";
export { sampleNoise } from "./src/obs/noise.ts";
export { Q_STD } from "./src/obs/background.ts";

// Assimilation: SOAD and SDA posterior sampling
export { defaultLayout } from "./src/assim/assimilate.ts";
export { PUBLISHED_RMSE, publishedRmse, type PublishedTable } from "./src/harness/published.ts";
export { runSampler, type SamplerOptions, type SamplerResult } from "./src/assim/sampler.ts";
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
  backgroundObservation,
  fdcActiveSteps,
  type FdcConfig,
  type PlannedBackground,
} from "./src/assim/fdc.ts";
export { augmentedIdentityDenoiser, isotropicGaussianDenoiser } from "./src/assim/gaussian.ts";
export { type AnomalyStats, anomalyStats, stateChannels } from "./src/assim/metrics.ts";

// Training the diffusion prior
export { averageGradients, gradientGroupSize, trainMemoryEstimate } from "./src/train/trainer.ts";
export {
  readCheckpoint,
  type TrainState,
  valuesCrc32,
  writeCheckpoint,
  writeWeights,
} from "./src/train/checkpoint.ts";
export { AdamW, type AdamWOptions, linearDecay, lrFactor } from "./src/train/adamw.ts";
export { emaDecay, updateEma } from "./src/train/ema.ts";
export { type WarmStartReport, warmStartWeights } from "./src/train/warm_start.ts";
export {
  describeGrowth,
  type GrowOptions,
  type GrowReport,
  growthProblem,
  growUNetWeights,
} from "./src/train/grow.ts";

// Experiments: the paper's evaluation grid
export { RESULTS_FORMAT } from "./src/harness/experiment.ts";
export { type CellInputs, cellSeed, prepareCell, runCell } from "./src/harness/experiment_cell.ts";
export { cellSampler, resolveExperimentConfig } from "./src/harness/experiment_config.ts";
export {
  cellKey,
  modelOf,
  PAPER_INTERVALS,
  PAPER_MASKS,
  parseMask,
  parseVariant,
} from "./src/harness/experiment_grid.ts";
export {
  type CheckedCheckpoint,
  checkExperimentCheckpoint,
  type LoadedCheckpoint,
  loadExperimentCheckpoint,
} from "./src/harness/experiment_inputs.ts";
export { comparisonFigure, type ComparisonFigureOptions } from "./src/harness/experiment_figure.ts";
export {
  type CandidateScore,
  rankByCrps,
  SELECTION_FORMAT,
  SELECTION_RULE,
  selectionCsv,
  type SelectionResult,
  selectPrior,
  type SelectPriorOptions,
} from "./src/harness/select_prior.ts";
export {
  type CandidateCheck,
  type CandidateInfo,
  type CandidateSettings,
  checkCandidates,
} from "./src/harness/select_candidates.ts";
export {
  resultsCsv,
  type RmseTable,
  rmseTables,
  summaryMarkdown,
  writeFigures,
} from "./src/harness/experiment_report.ts";
export {
  formatCell,
  heatmap,
  type HeatmapGeometry,
  heatmapGeometry,
  type HeatmapOptions,
  MISSING_COLOR,
} from "./src/io/heatmap.ts";

// ONNX: export the denoiser, run it on onnxruntime-web
export { ONNX_IO } from "./src/onnx/export.ts";
export { exportOnnxVjp, ONNX_VJP_IO } from "./src/onnx/export_vjp.ts";
export { NormalSource } from "./src/assim/normal.ts";
export {
  layoutForOperators,
  MODEL_NAMES,
  modelLayout,
  modelOperators,
} from "./src/obs/registry.ts";

// the U-Net itself (tfjs tensors): loadPrior builds it for you
export {
  createUNet,
  type CreateUNetOptions,
  type ParamVjpResult,
  type UNet,
} from "./src/diffusion/unet.ts";
export { type ForwardOptions } from "./src/diffusion/unet_forward.ts";

// Cycling twin experiment (issue 22): building blocks of the LETKF and the driver
export { SymmetricEigen } from "./src/assim/symmetric_eigen.ts";
export { type LetkfColumnsInput, letkfKernel, LetkfWasmKernel } from "./src/assim/letkf_wasm.ts";
export { climatologyStates } from "./src/harness/truth.ts";
export {
  type DataIdentity,
  type DataPhysics,
  dataPhysics,
  physicsMismatch,
} from "./src/data/physics.ts";
export {
  checkNormalisationsMatch,
  NORMALISATION_TOLERANCE,
  normalisationDifference,
} from "./src/diffusion/normalisation_match.ts";
