// The chaos short form, part of it: see test/chaos/short-form.ts.
import { chaosShortForm } from './short-form';

chaosShortForm('after-creation');
