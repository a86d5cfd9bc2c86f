import { en } from 'zod/locales';
import * as z from 'zod/mini';

/**
 * English issue messages for the `zod/mini` schemas ("Too big: expected string to have <=500 characters"),
 * imported for its effect by every module that defines them. Classic `zod` sets this on first use; `zod/mini`
 * leaves it to the application, and without it every message is "Invalid input". API callers read these
 * messages (`invalid_request`), and logs carry them for provider answers voicedrop does not understand.
 */
z.config(en());
