package org.sat2diffusers.pipeline.records;

import static org.sat2diffusers.pipeline.records.AvroFields.string;
import static org.sat2diffusers.pipeline.records.AvroFields.strings;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.sat2diffusers.io.sat.RecipeFolder;
import org.sat2diffusers.io.storage.FileFingerprint;
import org.sat2diffusers.transforms.convert.ConversionSettings;

/**
 * One checkpoint to convert and where to: what the driver hands the pipeline. Everything read from
 * storage to make it (the SAT config, the run's model_config.json, the base pipeline's
 * model_index.json) was read once, in the driver, and travels with it.
 *
 * @param id unique within the run (the output folder)
 * @param source the path the user gave, for messages and the report
 * @param iteration the checkpoint's iteration
 * @param files every file the checkpoint is read from (transformer rank files or a partitioned save's
 *     files, then a separate VAE file if any: the released layout's, or {@code vae})
 * @param outputDir the Diffusers folder to produce
 * @param settings the conversion options
 * @param runFolder the folder of the checkpoint's run, where SAT saves {@code model_config.json}
 * @param runModelConfig the text of the run's {@code model_config.json}, or null when it has none
 * @param vae the file given with {@code --vae} (the last of {@code files}), or null
 * @param fingerprints the files' fingerprints when the run started (recorded in the commit marker)
 * @param baseFingerprints the fingerprints of the base pipeline's files when the run started (empty
 *     without one)
 * @param recipeFolders the folders among the files' read as recipes (a ZeRO save), not file by file
 */
public record CheckpointJob(
    String id,
    String source,
    String iteration,
    List<String> files,
    String outputDir,
    ConversionSettings settings,
    String runFolder,
    String runModelConfig,
    String vae,
    List<FileFingerprint> fingerprints,
    List<FileFingerprint> baseFingerprints,
    List<RecipeFolder> recipeFolders) {
  private static final Schema RECIPE_FOLDER =
      SchemaBuilder.record("RecipeFolder")
          .namespace("org.sat2diffusers")
          .fields()
          .requiredString("kind")
          .requiredString("folder")
          .endRecord();

  private static final Schema FINGERPRINT =
      SchemaBuilder.record("FileFingerprint")
          .namespace("org.sat2diffusers")
          .fields()
          .requiredString("path")
          .requiredLong("sizeBytes")
          .requiredLong("lastModifiedMillis")
          .optionalString("checksum")
          .endRecord();

  static final Schema SCHEMA =
      SchemaBuilder.record("CheckpointJob")
          .namespace("org.sat2diffusers")
          .fields()
          .requiredString("id")
          .requiredString("source")
          .requiredString("iteration")
          .name("files").type().array().items().stringType().noDefault()
          .requiredString("outputDir")
          .name("settings").type(ConversionSettingsAvro.SCHEMA).noDefault()
          .requiredString("runFolder")
          .optionalString("runModelConfig")
          .optionalString("vae")
          .name("fingerprints").type().array().items(FINGERPRINT).noDefault()
          .name("baseFingerprints").type().array().items(FINGERPRINT).noDefault()
          .name("recipeFolders").type().array().items(RECIPE_FOLDER).noDefault()
          .endRecord();

  public CheckpointJob {
    files = List.copyOf(files);
    fingerprints = List.copyOf(fingerprints);
    baseFingerprints = List.copyOf(baseFingerprints);
    recipeFolders = List.copyOf(recipeFolders);
  }

  /** A job of torch files whose files have not been fingerprinted yet. */
  public CheckpointJob(String id, String source, String iteration, List<String> files, String outputDir,
      ConversionSettings settings, String runFolder, String runModelConfig) {
    this(id, source, iteration, files, outputDir, settings, runFolder, runModelConfig, null, List.of(), List.of(),
        List.of());
  }

  public CheckpointJob withFingerprints(List<FileFingerprint> sources, List<FileFingerprint> base) {
    return new CheckpointJob(id, source, iteration, files, outputDir, settings, runFolder, runModelConfig, vae, sources,
        base, recipeFolders);
  }

  /** This job with some of its files read as recipes. */
  public CheckpointJob withRecipeFolders(List<RecipeFolder> folders) {
    return new CheckpointJob(id, source, iteration, files, outputDir, settings, runFolder, runModelConfig, vae,
        fingerprints, baseFingerprints, folders);
  }

  /** This job with a VAE file of its own ({@code --vae}) converted into the same folder, after the checkpoint's files. */
  public CheckpointJob withVae(String file) {
    List<String> all = new ArrayList<>(files);
    all.add(file);
    return new CheckpointJob(id, source, iteration, all, outputDir, settings, runFolder, runModelConfig, file,
        fingerprints, baseFingerprints, recipeFolders);
  }

  /**
   * The parts planning takes, in the files' order (transformer first): each file in no recipe folder
   * (indexed on its own), and each recipe folder once, where its first file is. A part is named by its
   * path: the file's, or the folder's.
   */
  public List<String> partPaths() {
    List<String> parts = new ArrayList<>();
    for (String file : files) {
      String folder = file.substring(0, Math.max(file.lastIndexOf('/'), 0));
      String part = recipeFolder(folder) != null ? folder : file;
      if (!parts.contains(part)) {
        parts.add(part);
      }
    }
    return parts;
  }

  /** The recipe folder at {@code path}, or null when {@code path} is a file indexed on its own. */
  public RecipeFolder recipeFolder(String path) {
    return recipeFolders.stream().filter(r -> r.folder().equals(path)).findFirst().orElse(null);
  }

  /** Where this job's files are staged until they are complete. */
  public String stagingDir() {
    return outputDir + "/.sat2diffusers-staging";
  }

  public static Coder<CheckpointJob> coder() {
    return AvroRecordCoder.of(SCHEMA, CheckpointJob::toAvro, CheckpointJob::fromAvro);
  }

  private static GenericRecord toAvro(CheckpointJob j) {
    GenericRecord r = new GenericData.Record(SCHEMA);
    r.put("id", j.id());
    r.put("source", j.source());
    r.put("iteration", j.iteration());
    r.put("files", j.files());
    r.put("outputDir", j.outputDir());
    r.put("settings", ConversionSettingsAvro.toAvro(j.settings()));
    r.put("runFolder", j.runFolder());
    r.put("runModelConfig", j.runModelConfig());
    r.put("vae", j.vae());
    r.put("fingerprints", toAvro(j.fingerprints()));
    r.put("baseFingerprints", toAvro(j.baseFingerprints()));
    List<GenericRecord> folders = new ArrayList<>();
    for (RecipeFolder f : j.recipeFolders()) {
      GenericRecord folder = new GenericData.Record(RECIPE_FOLDER);
      folder.put("kind", f.kind().name());
      folder.put("folder", f.folder());
      folders.add(folder);
    }
    r.put("recipeFolders", folders);
    return r;
  }

  private static CheckpointJob fromAvro(GenericRecord r) {
    return new CheckpointJob(
        string(r, "id"),
        string(r, "source"),
        string(r, "iteration"),
        strings(r, "files"),
        string(r, "outputDir"),
        ConversionSettingsAvro.fromAvro((GenericRecord) r.get("settings")),
        string(r, "runFolder"),
        string(r, "runModelConfig"),
        string(r, "vae"),
        fingerprints(AvroFields.records(r, "fingerprints")),
        fingerprints(AvroFields.records(r, "baseFingerprints")),
        AvroFields.records(r, "recipeFolders").stream()
            .map(f -> new RecipeFolder(RecipeFolder.Kind.valueOf(string(f, "kind")), string(f, "folder"))).toList());
  }

  private static List<GenericRecord> toAvro(List<FileFingerprint> fingerprints) {
    List<GenericRecord> out = new ArrayList<>(fingerprints.size());
    for (FileFingerprint f : fingerprints) {
      GenericRecord r = new GenericData.Record(FINGERPRINT);
      r.put("path", f.path());
      r.put("sizeBytes", f.sizeBytes());
      r.put("lastModifiedMillis", f.lastModifiedMillis());
      r.put("checksum", f.checksum());
      out.add(r);
    }
    return out;
  }

  private static List<FileFingerprint> fingerprints(List<GenericRecord> records) {
    List<FileFingerprint> out = new ArrayList<>(records.size());
    for (GenericRecord r : records) {
      out.add(new FileFingerprint(string(r, "path"), AvroFields.longValue(r, "sizeBytes"),
          AvroFields.longValue(r, "lastModifiedMillis"), string(r, "checksum")));
    }
    return out;
  }
}
