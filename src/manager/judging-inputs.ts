/**
 * What admission and the background audit judge with, kept live in one place: the
 * AdmissionState (rules, configuration) fed by the watches of PolicyExceptions and the
 * VaktConfiguration `default` and by the live inventory (ADR 0008). One per `vakt run`: the
 * webhook part and the audit part share it, so both judge with the same exceptions at the same
 * moment and the process watches each kind once. It runs while any part holds it (acquire and
 * release count the holders) and is rebuilt from the API server when it starts again.
 */
import type { Logger } from "pino";
import { stringify } from "yaml";
import { GROUP, POLICY_EXCEPTION, VAKT_CONFIGURATION, VERSION } from "../api/registry.ts";
import { DEFAULT_CONFIG, parseConfig } from "../config/vakt-config.ts";
import type { VaktConfig } from "../config/vakt-config.ts";
import type { KubeObject } from "../engine/types.ts";
import type { KubeClient } from "../kube/client.ts";
import { ADMISSION_RULES, AdmissionState } from "../webhook/admission.ts";
import { watchCustomResources } from "./informer.ts";
import type { CustomResourceWatch } from "./informer.ts";
import { LiveInventory } from "./inventory.ts";

/** What changed: the inventory (often), or exceptions or configuration (rarely). */
export type JudgingChange = "inventory" | "exceptions" | "config";

interface Running {
  readonly inventory: LiveInventory;
  readonly watches: readonly CustomResourceWatch[];
}

export class LiveJudgingInputs {
  /** Every rule runs; relational ones read the live inventory (ADR 0008). */
  readonly state = new AdmissionState({ rules: ADMISSION_RULES, allRules: ADMISSION_RULES });
  readonly #listeners = new Set<(change: JudgingChange) => void>();
  #running: Running | undefined;
  #holders = 0;

  /** Starts the watches for the first holder; later holders share them. */
  acquire(client: KubeClient, logger: Logger): void {
    this.#holders++;
    if (this.#running !== undefined) return;
    const inventory = new LiveInventory({
      client,
      logger: logger.child({ component: "inventory" }),
      publish: (current) => {
        this.state.setInventory(current);
        this.#emit("inventory");
      },
    });
    inventory.start();
    this.#running = { inventory, watches: this.#watch(client, logger) };
  }

  /** Stops the watches when the last holder lets go. */
  async release(): Promise<void> {
    if (this.#holders > 0) this.#holders--;
    const running = this.#running;
    if (this.#holders > 0 || running === undefined) return;
    this.#running = undefined;
    await Promise.all(running.watches.map((w) => w.stop()));
    running.inventory.stop();
  }

  /** The live inventory, while held. */
  get inventory(): LiveInventory | undefined {
    return this.#running?.inventory;
  }

  /** The first lists of exceptions, configuration and inventory have arrived. */
  get synced(): boolean {
    const running = this.#running;
    return running !== undefined && running.watches.every((w) => w.synced) && running.inventory.synced;
  }

  /** Called after every change the state takes in; returns the unsubscribe. */
  onChange(listener: (change: JudgingChange) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #emit(change: JudgingChange): void {
    for (const listener of this.#listeners) listener(change);
  }

  /** PolicyExceptions and the VaktConfiguration `default`, fed into the admission state. */
  #watch(client: KubeClient, logger: Logger): CustomResourceWatch[] {
    const state = this.state;
    return [
      watchCustomResources(
        client,
        { group: GROUP, version: VERSION, plural: POLICY_EXCEPTION.plural },
        {
          onList: (list) => {
            state.setExceptions(list);
            logger.info({ exceptions: list.length }, "policy exceptions updated");
            this.#emit("exceptions");
          },
        },
        logger,
      ),
      watchCustomResources(
        client,
        { group: GROUP, version: VERSION, plural: VAKT_CONFIGURATION.plural },
        {
          onList: (list) => {
            const object = list.find((o) => o.metadata?.name === "default") as KubeObject | undefined;
            try {
              state.setConfig(configFromObject(object, logger));
              logger.info({ configured: object !== undefined }, "configuration updated");
              this.#emit("config");
            } catch {
              // keep the previous configuration; the error is logged
            }
          },
        },
        logger,
      ),
    ];
  }
}

function configFromObject(object: KubeObject | undefined, logger: Logger): VaktConfig {
  if (object === undefined) return DEFAULT_CONFIG;
  try {
    // One schema for vakt.yaml and the in-cluster object: validate through the same parser.
    return parseConfig(
      stringify({ apiVersion: object.apiVersion, kind: object.kind, spec: object["spec"] }),
      "VaktConfiguration/default",
      new Set(ADMISSION_RULES.map((r) => r.id)),
    );
  } catch (error) {
    logger.error(
      { error: error instanceof Error ? error.message : String(error) },
      "VaktConfiguration default is invalid; keeping the previous configuration",
    );
    throw error;
  }
}
