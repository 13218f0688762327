/**
 * Starlight's `docs` collection: the chapters, read from lessons/ by site/loader.ts.
 *
 * @module
 */

import { defineCollection } from "astro:content";
import { docsSchema, i18nSchema } from "@astrojs/starlight/schema";
import { i18nLoader } from "@astrojs/starlight/loaders";
import { LESSONS_DIR } from "../config.ts";
import { lessonsLoader } from "../loader.ts";

export const collections = {
  docs: defineCollection({ loader: lessonsLoader(LESSONS_DIR), schema: docsSchema() }),
  // The site's own wording of Starlight's interface (src/content/i18n/en.json).
  i18n: defineCollection({ loader: i18nLoader(), schema: i18nSchema() }),
};
